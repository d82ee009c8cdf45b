using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlashAttn.Interop;

/// <summary>
/// One-time checks that the loaded library speaks our ABI: load success, ABI version, and the
/// <c>fa_params</c> layout. Runs at the first public call; a failure is remembered and rethrown, so a
/// mismatched library can never receive a misread struct.
/// </summary>
internal static unsafe class NativeLayout
{
    /// <summary>FA_ABI_VERSION of the header this assembly was written against.</summary>
    internal const uint ExpectedAbiVersion = 2;

    /// <summary>sizeof(fa_params) on 64-bit targets per the header.</summary>
    internal const int ExpectedParamsSize = 392;

    private static readonly Lazy<string?> s_failure = new(Check, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static void EnsureLoaded()
    {
        string? failure = s_failure.Value;
        if (failure is not null)
            throw new FlashAttnLibraryException(failure);
    }

    private static string? Check()
    {
        string? layoutError = CheckManagedLayout();
        if (layoutError is not null)
            return layoutError;

        uint abi;
        try
        {
            abi = NativeMethods.fa_abi_version();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"The flashattn native library could not be loaded ({e.GetType().Name}: {e.Message}). " +
                   $"Looked in: {string.Join(", ", NativeLibraryResolver.Candidates())}. " +
                   $"Set {NativeLibraryResolver.PathEnvironmentVariable} to the library's path or directory.";
        }
        // fa_params_init writes struct_size = sizeof(fa_params) as the library sees it. A generous scratch
        // buffer keeps a larger native struct from writing past our memory while we find out; only done
        // once the ABI matches, since another ABI's fa_params_init could be anything.
        uint nativeSize = 0;
        if (abi == ExpectedAbiVersion)
        {
            byte* scratch = stackalloc byte[4096];
            new Span<byte>(scratch, 4096).Clear();
            NativeMethods.fa_params_init((FaParams*)scratch);
            nativeSize = *(uint*)scratch;
        }
        return DescribeMismatch(abi, nativeSize, NativeLibraryResolver.LoadedFrom);
    }

    /// <summary>The failure message for a loaded library, or null when it matches this assembly.</summary>
    internal static string? DescribeMismatch(uint abi, uint nativeParamsSize, string? loadedFrom)
    {
        if (abi != ExpectedAbiVersion)
        {
            return $"ABI version mismatch: FlashAttn.dll expects flashattn ABI {ExpectedAbiVersion} but the library " +
                   $"at '{loadedFrom ?? "(default search path)"}' reports ABI {abi}. " +
                   "Use the native library built from the same source as the managed assembly.";
        }
        if (nativeParamsSize != (uint)sizeof(FaParams))
        {
            return $"fa_params layout mismatch: the library's struct is {nativeParamsSize} bytes, the managed mirror " +
                   $"{sizeof(FaParams)} bytes. The library and FlashAttn.dll come from different sources.";
        }
        return null;
    }

    /// <summary>Checks the managed mirror against the offsets the header's layout implies.</summary>
    internal static string? CheckManagedLayout()
    {
        if (IntPtr.Size != 8)
            return "FlashAttn supports 64-bit processes only.";
        var expected = new (string Field, int Offset)[]
        {
            (nameof(FaParams.q), 16),
            (nameof(FaParams.cu_seqlens_q), 88),
            (nameof(FaParams.stream), 104),
            (nameof(FaParams.workspace_bytes), 120),
            (nameof(FaParams.q_batch_stride), 128),
            (nameof(FaParams.dv_head_stride), 312),
            (nameof(FaParams.batch), 320),
            (nameof(FaParams.dtype), 344),
            (nameof(FaParams.softmax_scale), 352),
            (nameof(FaParams.v_descale), 372),
            (nameof(FaParams.total_q), 376),
            (nameof(FaParams.total_k), 384),
        };
        foreach (var (field, offset) in expected)
        {
            int actual = (int)Marshal.OffsetOf<FaParams>(field);
            if (actual != offset)
                return $"fa_params mirror is wrong: field {field} at offset {actual}, header says {offset}.";
        }
        if (Unsafe.SizeOf<FaParams>() != ExpectedParamsSize)
            return $"fa_params mirror is {Unsafe.SizeOf<FaParams>()} bytes, header says {ExpectedParamsSize}.";
        return null;
    }
}

using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace FlashAttn.TorchSharp.Interop;

/// <summary>
/// The address of a tensor's first element, for any dtype and device.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 exposes <c>Tensor.Handle</c> and <c>Storage.data_ptr()</c> publicly, but
/// <c>Tensor.storage&lt;T&gt;()</c> only exists for a few element types (no Half, no BFloat16) and converts
/// the dtype first. So this reads <c>tensor-&gt;data_ptr()</c> through <c>THSTensor_data</c>, the exported C
/// entry point of LibTorchSharp that TorchSharp's own accessors use; it already includes the storage offset.
/// </remarks>
internal static class LibTorchSharpData
{
    private const string LibraryName = "LibTorchSharp";
    private static int s_resolverInstalled;

    [DllImport(LibraryName, CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    internal static nint DataPtr(torch.Tensor tensor, string name)
    {
        EnsureResolver();
        IntPtr p = THSTensor_data(tensor.Handle);
        if (p == IntPtr.Zero && tensor.numel() > 0)
            throw new ArgumentException($"{name} has no data pointer (is it a meta or undefined tensor?).", name);
        return p;
    }

    private static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref s_resolverInstalled, 1) != 0)
            return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(LibTorchSharpData).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The host installed its own resolver for this assembly; it decides then.
        }
    }

    // TorchSharp may have loaded LibTorchSharp from a folder next to TorchSharp.dll (its NuGet
    // consolidation) rather than from a path the default probing of this assembly would try.
    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
            return IntPtr.Zero;
        Assembly torchAssembly = typeof(torch).Assembly;
        if (NativeLibrary.TryLoad(LibraryName, torchAssembly, null, out IntPtr handle))
            return handle;
        string? dir = Path.GetDirectoryName(torchAssembly.Location);
        if (string.IsNullOrEmpty(dir))
            return IntPtr.Zero;
        string file = OperatingSystem.IsWindows() ? "LibTorchSharp.dll"
            : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        foreach (string sub in Directory.Exists(dir) ? Directory.GetDirectories(dir) : [])
        {
            string candidate = Path.Combine(sub, file);
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out handle))
                return handle;
        }
        return IntPtr.Zero;
    }
}

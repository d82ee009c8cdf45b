using System.Runtime.InteropServices;

namespace FlashAttn.Interop;

/// <summary>Every entry point of flashattn.h, and nothing else.</summary>
internal static unsafe partial class NativeMethods
{
    internal const string LibraryName = "flashattn";

    // An explicit static constructor (no beforefieldinit) guarantees the resolver is registered before
    // the first generated stub binds the library.
    static NativeMethods() => NativeLibraryResolver.Register();

    [LibraryImport(LibraryName)]
    internal static partial void fa_params_init(FaParams* p);

    [LibraryImport(LibraryName)]
    internal static partial int fa_mha_fwd(FaParams* p);

    [LibraryImport(LibraryName)]
    internal static partial int fa_mha_bwd(FaParams* p);

    [LibraryImport(LibraryName)]
    internal static partial int fa_mha_bwd_workspace_size(FaParams* p, ulong* bytes);

    [LibraryImport(LibraryName)]
    internal static partial int fa_select_backend(FaParams* p, int isBackward, int* backend);

    [LibraryImport(LibraryName)]
    internal static partial byte* fa_last_error();

    [LibraryImport(LibraryName)]
    internal static partial uint fa_abi_version();

    [LibraryImport(LibraryName)]
    internal static partial byte* fa_version_string();

    [LibraryImport(LibraryName)]
    internal static partial uint fa_capabilities();

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_device_count(int* count);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_compute_capability(int deviceIndex, int* capability);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_malloc(int deviceIndex, ulong bytes, void** ptr);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_free(int deviceIndex, void* ptr);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_memcpy(void* dst, void* src, ulong bytes);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cuda_synchronize(int deviceIndex);

    [LibraryImport(LibraryName)]
    internal static partial void fa_cpu_set_num_threads(int n);

    [LibraryImport(LibraryName)]
    internal static partial int fa_cpu_get_num_threads();
}

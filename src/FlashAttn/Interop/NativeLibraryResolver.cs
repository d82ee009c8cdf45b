using System.Reflection;
using System.Runtime.InteropServices;

namespace FlashAttn.Interop;

/// <summary>Finds libflashattn where this package puts it, so callers never set LD_LIBRARY_PATH.</summary>
/// <remarks>
/// Search order: FLASHATTN_NATIVE_PATH (a file or a directory; an explicit choice wins), the directory
/// of FlashAttn.dll, the application base directory, then runtimes/&lt;rid&gt;/native under both (NuGet
/// layout when the app was not published for a RID), and finally the OS default search.
/// </remarks>
internal static class NativeLibraryResolver
{
    internal const string PathEnvironmentVariable = "FLASHATTN_NATIVE_PATH";
    private static int s_registered;

    /// <summary>The file that was loaded, for diagnostics (null until the library is loaded).</summary>
    internal static string? LoadedFrom { get; private set; }

    internal static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) != 0)
            return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A host already installed a resolver for this assembly; it owns the lookup then.
        }
    }

    internal static string FileName =>
        OperatingSystem.IsWindows() ? "flashattn.dll" :
        OperatingSystem.IsMacOS() ? "libflashattn.dylib" : "libflashattn.so";

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.LibraryName)
            return IntPtr.Zero;

        foreach (string candidate in Candidates())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                LoadedFrom = candidate;
                return handle;
            }
        }
        // Let the runtime try its default probing (and produce its usual DllNotFoundException).
        return IntPtr.Zero;
    }

    internal static IEnumerable<string> Candidates()
    {
        string? overridePath = Environment.GetEnvironmentVariable(PathEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(overridePath))
            yield return Directory.Exists(overridePath) ? Path.Combine(overridePath, FileName) : overridePath;

        var dirs = new List<string>();
        string? assemblyDir = Path.GetDirectoryName(typeof(NativeLibraryResolver).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDir))
            dirs.Add(assemblyDir);
        if (!dirs.Contains(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))
            dirs.Add(AppContext.BaseDirectory);

        foreach (string dir in dirs)
            yield return Path.Combine(dir, FileName);
        foreach (string dir in dirs)
            foreach (string rid in RuntimeIds())
                yield return Path.Combine(dir, "runtimes", rid, "native", FileName);
    }

    private static IEnumerable<string> RuntimeIds()
    {
        yield return RuntimeInformation.RuntimeIdentifier;
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string portable = $"{os}-{arch}";
        if (portable != RuntimeInformation.RuntimeIdentifier)
            yield return portable;
    }
}

namespace FlashAttn.Demo;

/// <summary>
/// Peak resident memory added by a piece of work, read from Linux's high-water mark: writing "5" to
/// /proc/self/clear_refs resets VmHWM to the current RSS, so VmHWM after the work minus RSS before it is the
/// most the work held at once — native allocations included, which the GC's counters would miss.
/// </summary>
public static class PeakMemory
{
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    /// <summary>Runs <paramref name="work"/> and returns the peak bytes it added, or null where unsupported.</summary>
    public static long? Measure(Action work)
    {
        if (!Supported)
        {
            work();
            return null;
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
        long before = ReadKiB("VmRSS:");
        work();
        return Math.Max(0, ReadKiB("VmHWM:") - before) * 1024;
    }

    private static long ReadKiB(string key)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim());
        throw new InvalidOperationException($"/proc/self/status has no {key} line.");
    }
}

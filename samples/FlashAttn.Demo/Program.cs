using System.CommandLine;
using FlashAttn;
using FlashAttn.Demo;

// The main job: FlashAttention forward + backward over a few shapes, next to the naive attention that
// materializes the score matrix, with errors against a float64 reference. --bench runs the CPU benchmark grid.
var deviceOption = new Option<string>("--device") { Description = "cpu, cuda or auto (CUDA when a device is present)", DefaultValueFactory = _ => "auto" };
var benchOption = new Option<bool>("--bench") { Description = "Run the benchmark grid (seqlen 1k/4k/16k, head dims 64/128, fp32/bf16) instead of the tour" };
var naiveLimitOption = new Option<double>("--naive-limit-gib") { Description = "Skip the naive attention where its score matrices need more than this", DefaultValueFactory = _ => 6.0 };
var threadsOption = new Option<int>("--threads") { Description = "CPU backend worker threads (0 = all cores)", DefaultValueFactory = _ => 0 };
var markdownOption = new Option<bool>("--markdown") { Description = "Also print the table as Markdown (for docs/PERFORMANCE.md)" };

var root = new RootCommand("FlashAttn demo: flash vs naive attention, forward and backward, with errors against float64")
{
    deviceOption, benchOption, naiveLimitOption, threadsOption, markdownOption,
};
root.SetAction(parse =>
{
    // Redirected output (CI logs, files) would otherwise be wrapped at 80 columns.
    if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 240;
    Device device = ResolveDevice(parse.GetValue(deviceOption)!);
    FlashAttention.CpuThreadCount = parse.GetValue(threadsOption);
    var settings = new TourSettings(device, parse.GetValue(naiveLimitOption), parse.GetValue(markdownOption));
    return parse.GetValue(benchOption) ? Tour.RunBenchmark(settings) : Tour.RunTour(settings);
});
return root.Parse(args).Invoke();

static Device ResolveDevice(string name) => name switch
{
    "cpu" => Device.Cpu,
    "cuda" => FlashAttention.CudaDeviceCount > 0
        ? Device.Cuda(0)
        : throw new ArgumentException($"--device cuda: no CUDA device is visible to the library ({FlashAttention.Version}).", "--device"),
    "auto" => FlashAttention.CudaDeviceCount > 0 ? Device.Cuda(0) : Device.Cpu,
    _ => throw new ArgumentException($"--device must be cpu, cuda or auto; got '{name}'.", "--device"),
};

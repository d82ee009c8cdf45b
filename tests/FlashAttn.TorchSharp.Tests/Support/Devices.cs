using FlashAttn;
using TorchSharp;

namespace FlashAttn.TorchSharp.Tests.Support;

using Device = global::TorchSharp.torch.Device;
using DeviceType = global::TorchSharp.DeviceType;
using ScalarType = global::TorchSharp.torch.ScalarType;

/// <summary>Test devices: the CPU always; CUDA when TorchSharp sees a GPU and flashattn has CUDA kernels.</summary>
public static class Devices
{
    /// <summary>Names for [TestCaseSource]: every test runs on both, and CUDA ignores itself with a reason when absent.</summary>
    public static readonly string[] All = ["cpu", "cuda"];

    /// <summary>Test cases (device name, causal) for every device, each with and without the causal mask.</summary>
    public static IEnumerable<TestCaseData> WithCausal()
    {
        foreach (string device in All)
            foreach (bool causal in new[] { false, true })
                yield return new TestCaseData(device, causal).SetName($"{{m}}({device}{(causal ? ", causal" : "")})");
    }

    private static readonly Lazy<string?> s_cudaUnavailable = new(() =>
    {
        try
        {
            if (!torch.cuda.is_available())
                return "TorchSharp sees no CUDA device (no GPU, or a CPU-only libtorch).";
            if (!FlashAttention.HasCuda)
                return $"the flashattn library ({FlashAttention.Version}) was built without CUDA kernels.";
            return null;
        }
        catch (Exception e)
        {
            return $"CUDA could not be initialised: {e.Message}";
        }
    });

    /// <summary>The device, or Assert.Ignore with the reason CUDA cannot be used.</summary>
    public static torch.Device Get(string name)
    {
        if (name == "cuda")
        {
            if (s_cudaUnavailable.Value is string reason)
                Assert.Ignore($"CUDA skipped: {reason}");
            return torch.CUDA;
        }
        return torch.CPU;
    }

    /// <summary>TorchSharp's manual_seed seeds only the CPU generator; tensors and modules made on a GPU draw from CUDA's.</summary>
    public static void Seed(long seed, torch.Device device)
    {
        torch.manual_seed(seed);
        if (IsCuda(device))
            torch.cuda.manual_seed_all(seed);
    }

    public static bool IsCuda(torch.Device device) => device.type == DeviceType.CUDA;

    /// <summary>The half-precision dtype the CUDA kernels take, or float32 on the CPU (compared against float64).</summary>
    public static torch.ScalarType KernelDtype(torch.Device device) =>
        IsCuda(device) ? torch.ScalarType.Float16 : torch.ScalarType.Float32;
}

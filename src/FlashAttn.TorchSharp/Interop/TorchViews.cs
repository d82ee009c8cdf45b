using TorchSharp;
using FaDevice = FlashAttn.Device;
using FaScalarType = FlashAttn.ScalarType;
using TorchScalarType = TorchSharp.torch.ScalarType;

namespace FlashAttn.TorchSharp.Interop;

using DeviceType = global::TorchSharp.DeviceType;

/// <summary>Describes TorchSharp tensors to the framework-free core, without copying them.</summary>
internal static class TorchViews
{
    internal static TensorView View(torch.Tensor t, string name) =>
        new(LibTorchSharpData.DataPtr(t, name), ToFlashAttn(t.dtype, name), t.shape, t.stride(), DeviceOf(t));

    internal static FaDevice DeviceOf(torch.Tensor t) =>
        t.device_type == DeviceType.CUDA ? FaDevice.Cuda(t.device_index) : FaDevice.Cpu;

    internal static FaScalarType ToFlashAttn(TorchScalarType dtype, string name) => dtype switch
    {
        TorchScalarType.Float32 => FaScalarType.Float32,
        TorchScalarType.Float16 => FaScalarType.Float16,
        TorchScalarType.BFloat16 => FaScalarType.BFloat16,
        _ => throw new ArgumentException($"{name} has dtype {dtype}; expected Float32, Float16 or BFloat16.", name),
    };
}

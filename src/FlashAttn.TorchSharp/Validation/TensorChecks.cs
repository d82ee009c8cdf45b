using TorchSharp;
using TorchScalarType = TorchSharp.torch.ScalarType;

namespace FlashAttn.TorchSharp.Validation;

using DeviceType = global::TorchSharp.DeviceType;

/// <summary>
/// Checks of single tensors, each failing with an exception that names the argument, so that nothing
/// reaches native code that the kernels would reject or misread.
/// </summary>
internal static class TensorChecks
{
    internal static torch.Tensor NotNull(torch.Tensor? t, string name)
    {
        if (t is null)
            throw new ArgumentNullException(name, $"{name} must be a tensor, not null.");
        if (t.IsInvalid)
            throw new ObjectDisposedException(name, $"{name} has been disposed.");
        return t;
    }

    internal static void Rank(torch.Tensor t, int rank, string layout, string name)
    {
        if (t.dim() != rank)
            throw new ArgumentException($"{name} must be {rank}-D {layout}; got shape {Fmt(t.shape)}.", name);
    }

    /// <summary>The kernels step through head_dim one element at a time; other strides are free.</summary>
    internal static void LastDimContiguous(torch.Tensor t, string name)
    {
        long last = t.dim() - 1;
        if (t.shape[last] > 1 && t.stride((int)last) != 1)
            throw new ArgumentException(
                $"{name} must be contiguous in its last dimension (head_dim stride 1); got strides {Fmt(t.stride())}. Call .contiguous() first.",
                name);
        foreach (long s in t.stride())
        {
            if (s < 0)
                throw new ArgumentException($"{name} has a negative stride ({Fmt(t.stride())}); strides must be >= 0.", name);
        }
    }

    /// <summary>CUDA kernels are FlashAttention-2/3: half precision only. The CPU backend also takes float32.</summary>
    internal static void SupportedDtype(torch.Tensor t, string name)
    {
        TorchScalarType dt = t.dtype;
        bool cuda = t.device_type == DeviceType.CUDA;
        if (cuda && dt is not (TorchScalarType.Float16 or TorchScalarType.BFloat16))
            throw new ArgumentException(
                $"{name} has dtype {dt}; on CUDA the FlashAttention kernels take Float16 or BFloat16.", name);
        if (!cuda && dt is not (TorchScalarType.Float32 or TorchScalarType.Float16 or TorchScalarType.BFloat16))
            throw new ArgumentException(
                $"{name} has dtype {dt}; on the CPU FlashAttention takes Float32, Float16 or BFloat16.", name);
        if (t.device_type is not (DeviceType.CPU or DeviceType.CUDA))
            throw new ArgumentException($"{name} is on {t.device}; FlashAttention runs on CPU or CUDA tensors.", name);
        if (cuda && !FlashAttention.HasCuda)
            throw new NotSupportedException(
                $"{name} is on {t.device}, but the loaded flashattn library ({FlashAttention.Version}) was built without CUDA kernels.");
    }

    internal static void SameDtype(torch.Tensor t, string name, torch.Tensor reference, string referenceName)
    {
        if (t.dtype != reference.dtype)
            throw new ArgumentException($"{name} must have {referenceName}'s dtype {reference.dtype}; got {t.dtype}.", name);
    }

    internal static void SameDevice(torch.Tensor t, string name, torch.Tensor reference, string referenceName)
    {
        if (t.device_type != reference.device_type || t.device_index != reference.device_index)
            throw new ArgumentException(
                $"{name} is on {t.device} but {referenceName} is on {reference.device}; all tensors must be on one device.", name);
    }

    internal static void HeadDim(long headDim, torch.Tensor t, string name)
    {
        if (headDim < 1 || headDim > FlashAttention.MaxHeadDim)
            throw new ArgumentOutOfRangeException(name, headDim,
                $"{name}'s head_dim (last dimension) must be between 1 and {FlashAttention.MaxHeadDim}; got {headDim}.");
        if (t.device_type == DeviceType.CUDA && headDim % 8 != 0)
            throw new ArgumentOutOfRangeException(name, headDim,
                $"{name}'s head_dim must be a multiple of 8 on CUDA; got {headDim}.");
    }

    internal static void AtLeastOne(long value, string what, torch.Tensor t, string name)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(name, value, $"{what} must be >= 1; {name} has shape {Fmt(t.shape)}.");
    }

    internal static void FitsInt32(long value, string what, string name)
    {
        if (value > int.MaxValue)
            throw new ArgumentOutOfRangeException(name, value, $"{what} must fit in int32.");
    }

    internal static string Fmt(long[] values) => "[" + string.Join(", ", values) + "]";
}

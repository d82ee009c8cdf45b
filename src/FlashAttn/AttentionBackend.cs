namespace FlashAttn;

/// <summary>Which implementation runs a call; values equal <c>fa_backend</c>.</summary>
public enum AttentionBackend
{
    /// <summary>The fastest compiled backend that supports the call on the tensors' device.</summary>
    Auto = 0,
    /// <summary>The reference-quality CPU backend.</summary>
    Cpu = 1,
    /// <summary>FlashAttention-2 kernels (Ampere and newer).</summary>
    CudaSm80 = 2,
    /// <summary>FlashAttention-3 kernels (Hopper): the forward, and the backward of 16-bit inputs up to head_dim 128.</summary>
    CudaSm90 = 3,
}

/// <summary>What the loaded native library was built with (<c>FA_CAP_*</c>).</summary>
[Flags]
public enum FlashAttnCapabilities : uint
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>CPU backend.</summary>
    Cpu = 1u << 0,
    /// <summary>FlashAttention-2 CUDA kernels.</summary>
    CudaSm80 = 1u << 1,
    /// <summary>FlashAttention-3 CUDA kernels.</summary>
    CudaSm90 = 1u << 2,
    /// <summary>FP8 (E4M3) forward.</summary>
    Fp8 = 1u << 3,
}

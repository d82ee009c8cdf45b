using System.Runtime.InteropServices;
using FlashAttn.Interop;
using FlashAttn.Internal;

namespace FlashAttn;

/// <summary>
/// FlashAttention forward and backward over <see cref="TensorView"/>s on any device, plus library
/// information. See <c>FlashAttention.Managed.cs</c> for the managed-array convenience overloads.
/// </summary>
public static unsafe partial class FlashAttention
{
    /// <summary>Largest head_dim any backend accepts (FA_MAX_HEAD_DIM).</summary>
    public const int MaxHeadDim = 256;

    /// <summary>
    /// out = softmax(scale · q kᵀ [+ causal mask]) v, and the per-row log-sum-exp of the scaled scores.
    /// </summary>
    /// <param name="q">(batch, seqlen_q, num_heads_q, head_dim), or (total_q, num_heads_q, head_dim) with options.Varlen.</param>
    /// <param name="k">(batch, seqlen_k, num_heads_kv, head_dim); num_heads_q must be a multiple of num_heads_kv.</param>
    /// <param name="v">Same shape as <paramref name="k"/>.</param>
    /// <param name="output">Written; same shape as <paramref name="q"/> (BFloat16 for Float8E4M3 inputs).</param>
    /// <param name="softmaxLse">Written; contiguous Float32 (batch, num_heads_q, seqlen_q), or (num_heads_q, total_q).</param>
    /// <param name="options">Scale, causal mask, backend, stream, varlen; null for defaults.</param>
    public static void Forward(TensorView q, TensorView k, TensorView v, TensorView output, TensorView softmaxLse,
        AttentionOptions? options = null)
    {
        FaParams p = ParamsBuilder.Build(q, k, v, output, softmaxLse, null, null, null, null, options, backward: false);
        NativeLayout.EnsureLoaded();
        Native.Check(NativeMethods.fa_mha_fwd(&p), "fa_mha_fwd");
    }

    /// <summary>Gradients of <see cref="Forward(TensorView, TensorView, TensorView, TensorView, TensorView, AttentionOptions?)"/>: dq, dk, dv are overwritten.</summary>
    /// <param name="q">The forward's q.</param>
    /// <param name="k">The forward's k.</param>
    /// <param name="v">The forward's v.</param>
    /// <param name="output">The forward's output (read).</param>
    /// <param name="softmaxLse">The forward's LSE (read).</param>
    /// <param name="dOutput">Gradient of the loss with respect to output; shape of q.</param>
    /// <param name="dq">Written; shape of q.</param>
    /// <param name="dk">Written; shape of k (summed over each GQA group).</param>
    /// <param name="dv">Written; shape of v.</param>
    /// <param name="options">Must match the forward's (scale, causal, varlen).</param>
    public static void Backward(TensorView q, TensorView k, TensorView v, TensorView output, TensorView softmaxLse,
        TensorView dOutput, TensorView dq, TensorView dk, TensorView dv, AttentionOptions? options = null)
    {
        FaParams p = ParamsBuilder.Build(q, k, v, output, softmaxLse, dOutput, dq, dk, dv, options, backward: true);
        NativeLayout.EnsureLoaded();
        Native.Check(NativeMethods.fa_mha_bwd(&p), "fa_mha_bwd");
    }

    /// <summary>Bytes of device scratch the backward described by these arguments needs (0 on CPU).</summary>
    public static ulong BackwardWorkspaceSize(TensorView q, TensorView k, TensorView v, TensorView output,
        TensorView softmaxLse, TensorView dOutput, TensorView dq, TensorView dk, TensorView dv,
        AttentionOptions? options = null)
    {
        FaParams p = ParamsBuilder.Build(q, k, v, output, softmaxLse, dOutput, dq, dk, dv, WithoutWorkspace(options), backward: true);
        NativeLayout.EnsureLoaded();
        ulong bytes;
        Native.Check(NativeMethods.fa_mha_bwd_workspace_size(&p, &bytes), "fa_mha_bwd_workspace_size");
        return bytes;
    }

    /// <summary>The backend a forward with these arguments would run on, without running it.</summary>
    public static AttentionBackend SelectBackend(TensorView q, TensorView k, TensorView v, TensorView output,
        TensorView softmaxLse, AttentionOptions? options = null)
    {
        FaParams p = ParamsBuilder.Build(q, k, v, output, softmaxLse, null, null, null, null, options, backward: false);
        return Select(&p, isBackward: false);
    }

    /// <summary>The backend a backward with these arguments would run on, without running it.</summary>
    public static AttentionBackend SelectBackend(TensorView q, TensorView k, TensorView v, TensorView output,
        TensorView softmaxLse, TensorView dOutput, TensorView dq, TensorView dk, TensorView dv,
        AttentionOptions? options = null)
    {
        FaParams p = ParamsBuilder.Build(q, k, v, output, softmaxLse, dOutput, dq, dk, dv, options, backward: true);
        return Select(&p, isBackward: true);
    }

    private static AttentionBackend Select(FaParams* p, bool isBackward)
    {
        NativeLayout.EnsureLoaded();
        int backend;
        Native.Check(NativeMethods.fa_select_backend(p, isBackward ? 1 : 0, &backend), "fa_select_backend");
        return (AttentionBackend)backend;
    }

    // Sizing is a question about the call, not about a buffer the caller may not have yet.
    private static AttentionOptions? WithoutWorkspace(AttentionOptions? options)
    {
        if (options is null || (options.Workspace == 0 && options.WorkspaceBytes == 0))
            return options;
        AttentionOptions copy = options.Clone();
        copy.Workspace = 0;
        copy.WorkspaceBytes = 0;
        return copy;
    }

    /// <summary>The library's version string, e.g. "0.1.0 (cpu, cuda sm80 sm90)".</summary>
    public static string Version
    {
        get
        {
            NativeLayout.EnsureLoaded();
            return Marshal.PtrToStringUTF8((nint)NativeMethods.fa_version_string()) ?? string.Empty;
        }
    }

    /// <summary>FA_ABI_VERSION the loaded library was built with (checked against this assembly at first use).</summary>
    public static uint AbiVersion
    {
        get
        {
            NativeLayout.EnsureLoaded();
            return NativeMethods.fa_abi_version();
        }
    }

    /// <summary>Backends and features compiled into the loaded library.</summary>
    public static FlashAttnCapabilities Capabilities
    {
        get
        {
            NativeLayout.EnsureLoaded();
            return (FlashAttnCapabilities)NativeMethods.fa_capabilities();
        }
    }

    /// <summary>True when the library was built with any CUDA backend.</summary>
    public static bool HasCuda => (Capabilities & (FlashAttnCapabilities.CudaSm80 | FlashAttnCapabilities.CudaSm90)) != 0;

    /// <summary>CUDA devices the library can use: 0 without CUDA support or without a driver.</summary>
    public static int CudaDeviceCount
    {
        get
        {
            NativeLayout.EnsureLoaded();
            int count;
            Native.Check(NativeMethods.fa_cuda_device_count(&count), "fa_cuda_device_count");
            return count;
        }
    }

    /// <summary>Compute capability of CUDA device <paramref name="deviceIndex"/> as major*10+minor (e.g. 90).</summary>
    public static int CudaComputeCapability(int deviceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        NativeLayout.EnsureLoaded();
        int capability;
        Native.Check(NativeMethods.fa_cuda_compute_capability(deviceIndex, &capability), "fa_cuda_compute_capability");
        return capability;
    }

    /// <summary>Worker threads of the CPU backend; setting 0 means one per hardware thread.</summary>
    public static int CpuThreadCount
    {
        get
        {
            NativeLayout.EnsureLoaded();
            return NativeMethods.fa_cpu_get_num_threads();
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            NativeLayout.EnsureLoaded();
            NativeMethods.fa_cpu_set_num_threads(value);
        }
    }

    /// <summary>Where the native library was loaded from (null before first use or when found by the OS search).</summary>
    public static string? NativeLibraryPath => NativeLibraryResolver.LoadedFrom;
}

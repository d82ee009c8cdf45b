using System.Runtime.InteropServices;

namespace FlashAttn.Interop;

/// <summary>Exact mirror of <c>fa_params</c> in native/include/flashattn.h (392 bytes on 64-bit targets).</summary>
/// <remarks>
/// Field order and types must track the header one-for-one: the native side reads this memory directly.
/// <see cref="NativeLayout"/> checks size and key offsets at first use, so a drift fails loudly instead of
/// scrambling arguments.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FaParams
{
    public uint struct_size;
    public int device_type;
    public int device_index;
    public int backend;

    public void* q;
    public void* k;
    public void* v;
    public void* @out;
    public float* softmax_lse;

    public void* dout;
    public void* dq;
    public void* dk;
    public void* dv;

    public int* cu_seqlens_q;
    public int* cu_seqlens_k;

    public void* stream;
    public void* workspace;
    public ulong workspace_bytes;

    public long q_batch_stride, q_row_stride, q_head_stride;
    public long k_batch_stride, k_row_stride, k_head_stride;
    public long v_batch_stride, v_row_stride, v_head_stride;
    public long out_batch_stride, out_row_stride, out_head_stride;
    public long dout_batch_stride, dout_row_stride, dout_head_stride;
    public long dq_batch_stride, dq_row_stride, dq_head_stride;
    public long dk_batch_stride, dk_row_stride, dk_head_stride;
    public long dv_batch_stride, dv_row_stride, dv_head_stride;

    public int batch;
    public int seqlen_q;
    public int seqlen_k;
    public int num_heads_q;
    public int num_heads_kv;
    public int head_dim;

    public int dtype;
    public int out_dtype;

    public float softmax_scale;
    public int causal;
    public int deterministic;

    public float q_descale;
    public float k_descale;
    public float v_descale;

    public long total_q;
    public long total_k;
}

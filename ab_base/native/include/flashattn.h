/*
 * flashattn.h — the C ABI of the FlashAttn native library. This header is the contract.
 *
 * One params struct (fa_params) describes one attention call, forward or backward, on any backend.
 * Every field keeps the same meaning from the C# caller down to the kernels.
 *
 * Layout. q is (batch, seqlen_q, num_heads_q, head_dim); k and v are (batch, seqlen_k, num_heads_kv,
 * head_dim); out and dout like q; dq like q; dk, dv like k. Each tensor is addressed by its data pointer
 * and three strides counted in ELEMENTS (not bytes): batch, row (seqlen) and head. The head_dim stride
 * is always 1. Any other strides (transposed views, packed qkv, padding between rows) are allowed.
 *
 * softmax_lse is float32, contiguous, shape (batch, num_heads_q, seqlen_q): the natural log of the
 * softmax denominator of each query row, scaled as the softmax is (lse = log sum_j exp(scale * s_j)).
 * In variable-length mode (cu_seqlens_q set) it is (num_heads_q, total_q) instead.
 *
 * Causal masking is bottom-right aligned (FlashAttention >= 2.1): query row i may attend to key
 * column j iff j <= i + seqlen_k - seqlen_q. A row with no key to attend to gets out = 0 and
 * lse = -inf, never NaN; its gradients are 0.
 *
 * GQA/MQA: num_heads_q must be a multiple of num_heads_kv; query head h reads kv head
 * h / (num_heads_q / num_heads_kv). dk and dv are summed over each group.
 *
 * Errors. Every entry point returns an fa_status. On failure, fa_last_error() returns a message for
 * the calling thread that names the offending argument; it stays valid until the next call into the
 * library on that thread. The library never aborts the process on bad input.
 *
 * Streams. CUDA work is queued on params.stream (a cudaStream_t; NULL is the legacy default stream).
 * No entry point synchronizes the stream. The CPU backend runs synchronously on the calling thread and
 * a pool of worker threads.
 */
#ifndef FLASHATTN_H
#define FLASHATTN_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(FLASHATTN_BUILDING)
#    define FA_API __declspec(dllexport)
#  else
#    define FA_API __declspec(dllimport)
#  endif
#else
#  define FA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever fa_params or an entry point changes meaning or layout. Callers compare it with
 * fa_abi_version() and refuse a library built for another ABI. */
#define FA_ABI_VERSION 2

typedef enum fa_status {
    FA_OK = 0,
    FA_ERR_INVALID_ARGUMENT = 1,   /* a shape, stride, pointer or value is wrong: the message says which */
    FA_ERR_UNSUPPORTED = 2,        /* valid, but no compiled backend handles it (dtype, head_dim, arch) */
    FA_ERR_BACKEND_UNAVAILABLE = 3,/* the requested backend was not compiled in or has no device */
    FA_ERR_DEVICE = 4,             /* the CUDA runtime reported an error; the message carries its text */
    FA_ERR_OUT_OF_MEMORY = 5,      /* host or device allocation failed */
    FA_ERR_INTERNAL = 6            /* a bug in this library */
} fa_status;

typedef enum fa_dtype {
    FA_DTYPE_FLOAT32 = 0,
    FA_DTYPE_FLOAT16 = 1,
    FA_DTYPE_BFLOAT16 = 2,
    FA_DTYPE_FLOAT8_E4M3 = 3       /* q, k, v only (Hopper forward); out is then bfloat16 */
} fa_dtype;

typedef enum fa_device_type {
    FA_DEVICE_CPU = 0,
    FA_DEVICE_CUDA = 1
} fa_device_type;

/* Which implementation runs a call. AUTO picks the fastest compiled one that supports the call on
 * the tensors' device. Naming one that cannot run the call is an error, never a silent fallback. */
typedef enum fa_backend {
    FA_BACKEND_AUTO = 0,
    FA_BACKEND_CPU = 1,
    FA_BACKEND_CUDA_SM80 = 2,      /* FlashAttention-2 kernels: Ampere and newer */
    FA_BACKEND_CUDA_SM90 = 3       /* FlashAttention-3 kernels: Hopper (compute capability 9.0) only */
} fa_backend;

/* Bits of fa_capabilities(): what this build contains. */
#define FA_CAP_CPU        (1u << 0)
#define FA_CAP_CUDA_SM80  (1u << 1)
#define FA_CAP_CUDA_SM90  (1u << 2)
#define FA_CAP_FP8        (1u << 3)

/* Largest head_dim any backend accepts. head_dim must be a multiple of 8 for CUDA backends. */
#define FA_MAX_HEAD_DIM 256

typedef struct fa_params {
    /* Set to sizeof(fa_params) by the caller: a cheap guard against a mismatched struct layout. */
    uint32_t struct_size;
    int32_t  device_type;          /* fa_device_type: where every pointer below lives */
    int32_t  device_index;         /* CUDA ordinal; ignored on CPU */
    int32_t  backend;              /* fa_backend */

    /* ---- inputs ---- */
    const void* q;
    const void* k;
    const void* v;
    /* ---- forward outputs (backward: the forward's out and lse, read only) ---- */
    void*  out;
    float* softmax_lse;

    /* ---- backward only: dout in, gradients out ---- */
    const void* dout;
    void* dq;
    void* dk;
    void* dv;

    /* ---- variable length (optional): int32 prefix sums of length batch+1 on the tensors' device.
     * When set, tensors are packed (total, heads, head_dim): the batch strides are ignored, sequence b
     * spans rows cu_seqlens[b] .. cu_seqlens[b+1], and seqlen_q / seqlen_k are the maxima. ---- */
    const int32_t* cu_seqlens_q;
    const int32_t* cu_seqlens_k;

    /* ---- CUDA: a cudaStream_t; scratch for the backward (see fa_mha_bwd_workspace_size) ---- */
    void*    stream;
    void*    workspace;
    uint64_t workspace_bytes;

    /* ---- strides in elements: batch, row (along seqlen), head ---- */
    int64_t q_batch_stride,    q_row_stride,    q_head_stride;
    int64_t k_batch_stride,    k_row_stride,    k_head_stride;
    int64_t v_batch_stride,    v_row_stride,    v_head_stride;
    int64_t out_batch_stride,  out_row_stride,  out_head_stride;
    int64_t dout_batch_stride, dout_row_stride, dout_head_stride;
    int64_t dq_batch_stride,   dq_row_stride,   dq_head_stride;
    int64_t dk_batch_stride,   dk_row_stride,   dk_head_stride;
    int64_t dv_batch_stride,   dv_row_stride,   dv_head_stride;

    /* ---- sizes ---- */
    int32_t batch;
    int32_t seqlen_q;
    int32_t seqlen_k;
    int32_t num_heads_q;
    int32_t num_heads_kv;
    int32_t head_dim;

    /* ---- element types: dtype for q, k, v; out_dtype for out, dout, dq, dk, dv. They are equal
     * except for FLOAT8_E4M3 inputs, whose output is BFLOAT16. ---- */
    int32_t dtype;
    int32_t out_dtype;

    float   softmax_scale;         /* usually 1/sqrt(head_dim); must be finite and > 0 */
    int32_t causal;                /* 0 or 1 */
    int32_t deterministic;         /* backward: 1 = bitwise reproducible gradients (slower) */

    /* FP8: per-tensor factors that map stored e4m3 values back to real ones (real = stored * descale).
     * Ignored for other dtypes; 0 is read as 1. */
    float   q_descale;
    float   k_descale;
    float   v_descale;

    /* Variable length: rows of the packed q (and out) and of k and v, i.e. cu_seqlens_q[batch] and
     * cu_seqlens_k[batch], which live on the device. 0 = not given. The Hopper kernels need them (TMA
     * descriptors are bounded by them on the host): a varlen call without them runs on CUDA_SM80. */
    int64_t total_q;
    int64_t total_k;
} fa_params;                       /* 392 bytes on 64-bit targets; no implicit padding */

/* Fills *p with defaults: struct_size set, backend AUTO, device CPU, scale 0 (= 1/sqrt(head_dim)
 * when left 0 at call time), descales 1, everything else 0/NULL. */
FA_API void fa_params_init(fa_params* p);

/* Forward: writes out and softmax_lse. */
FA_API fa_status fa_mha_fwd(const fa_params* p);

/* Backward: reads q, k, v, out, softmax_lse, dout; writes dq, dk, dv (overwritten, not accumulated).
 * CUDA needs scratch of fa_mha_bwd_workspace_size() bytes: pass it in workspace/workspace_bytes, or
 * leave workspace NULL and the library allocates it stream-ordered (cudaMallocAsync) and frees it
 * stream-ordered before returning, so nothing outlives the call. */
FA_API fa_status fa_mha_bwd(const fa_params* p);

/* Bytes of backward scratch the call described by *p needs on its backend (0 on CPU). */
FA_API fa_status fa_mha_bwd_workspace_size(const fa_params* p, uint64_t* bytes);

/* Which backend a call would run on, without running it (validates the params the same way). */
FA_API fa_status fa_select_backend(const fa_params* p, int32_t is_backward, int32_t* backend);

/* The message for the last failure on this thread ("" if none). */
FA_API const char* fa_last_error(void);

FA_API uint32_t    fa_abi_version(void);      /* FA_ABI_VERSION the library was built with */
FA_API const char* fa_version_string(void);   /* e.g. "0.1.0 (cpu, cuda sm80 sm90)" */
FA_API uint32_t    fa_capabilities(void);     /* FA_CAP_* bits compiled in */

/* CUDA devices visible to the library (0 when CUDA is not compiled in or no driver is present), and
 * the compute capability of one (major*10+minor, e.g. 90). */
FA_API fa_status fa_cuda_device_count(int32_t* count);
FA_API fa_status fa_cuda_compute_capability(int32_t device_index, int32_t* capability);

/* Minimal device-memory helpers, so that C callers and the framework-free C# API can run on CUDA
 * without another runtime binding. Each fails with FA_ERR_BACKEND_UNAVAILABLE when CUDA is not compiled
 * in. fa_cuda_memcpy copies synchronously in either direction (cudaMemcpyDefault). */
FA_API fa_status fa_cuda_malloc(int32_t device_index, uint64_t bytes, void** ptr);
FA_API fa_status fa_cuda_free(int32_t device_index, void* ptr);
FA_API fa_status fa_cuda_memcpy(void* dst, const void* src, uint64_t bytes);
FA_API fa_status fa_cuda_synchronize(int32_t device_index);

/* Worker threads the CPU backend uses (0 = one per hardware thread). */
FA_API void    fa_cpu_set_num_threads(int32_t n);
FA_API int32_t fa_cpu_get_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* FLASHATTN_H */

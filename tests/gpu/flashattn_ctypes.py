"""ctypes binding of the FlashAttn C ABI (native/include/flashattn.h), for GPU tests driven by PyTorch.

The structure mirrors fa_params field for field; the layout is checked against the 392 bytes the
header documents and against the library's own struct_size check on every call.
"""
import ctypes
import os

FA_OK, FA_ERR_INVALID_ARGUMENT, FA_ERR_UNSUPPORTED, FA_ERR_BACKEND_UNAVAILABLE = 0, 1, 2, 3
FA_ERR_DEVICE, FA_ERR_OUT_OF_MEMORY, FA_ERR_INTERNAL = 4, 5, 6
STATUS_NAMES = {0: "OK", 1: "INVALID_ARGUMENT", 2: "UNSUPPORTED", 3: "BACKEND_UNAVAILABLE", 4: "DEVICE",
                5: "OUT_OF_MEMORY", 6: "INTERNAL"}

FA_DTYPE_FLOAT32, FA_DTYPE_FLOAT16, FA_DTYPE_BFLOAT16, FA_DTYPE_FLOAT8_E4M3 = 0, 1, 2, 3
FA_DEVICE_CPU, FA_DEVICE_CUDA = 0, 1
FA_BACKEND_AUTO, FA_BACKEND_CPU, FA_BACKEND_CUDA_SM80, FA_BACKEND_CUDA_SM90 = 0, 1, 2, 3
FA_ABI_VERSION = 2


class FaParams(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("device_type", ctypes.c_int32),
        ("device_index", ctypes.c_int32),
        ("backend", ctypes.c_int32),
        ("q", ctypes.c_void_p),
        ("k", ctypes.c_void_p),
        ("v", ctypes.c_void_p),
        ("out", ctypes.c_void_p),
        ("softmax_lse", ctypes.c_void_p),
        ("dout", ctypes.c_void_p),
        ("dq", ctypes.c_void_p),
        ("dk", ctypes.c_void_p),
        ("dv", ctypes.c_void_p),
        ("cu_seqlens_q", ctypes.c_void_p),
        ("cu_seqlens_k", ctypes.c_void_p),
        ("stream", ctypes.c_void_p),
        ("workspace", ctypes.c_void_p),
        ("workspace_bytes", ctypes.c_uint64),
    ] + [(f"{t}_{s}_stride", ctypes.c_int64)
         for t in ("q", "k", "v", "out", "dout", "dq", "dk", "dv")
         for s in ("batch", "row", "head")] + [
        ("batch", ctypes.c_int32),
        ("seqlen_q", ctypes.c_int32),
        ("seqlen_k", ctypes.c_int32),
        ("num_heads_q", ctypes.c_int32),
        ("num_heads_kv", ctypes.c_int32),
        ("head_dim", ctypes.c_int32),
        ("dtype", ctypes.c_int32),
        ("out_dtype", ctypes.c_int32),
        ("softmax_scale", ctypes.c_float),
        ("causal", ctypes.c_int32),
        ("deterministic", ctypes.c_int32),
        ("q_descale", ctypes.c_float),
        ("k_descale", ctypes.c_float),
        ("v_descale", ctypes.c_float),
        ("total_q", ctypes.c_int64),
        ("total_k", ctypes.c_int64),
    ]


assert ctypes.sizeof(FaParams) == 392, ctypes.sizeof(FaParams)


def find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("FLASHATTN_LIB", "")]
    for build in ("build-gpu", "build"):
        candidates.append(os.path.join(here, "..", "..", build, "lib", "libflashattn.so"))
    for c in candidates:
        if c and os.path.exists(c):
            return os.path.abspath(c)
    raise FileNotFoundError("libflashattn.so not found: set FLASHATTN_LIB")


class Library:
    def __init__(self, path=None):
        self.lib = ctypes.CDLL(path or find_library())
        L = self.lib
        P = ctypes.POINTER(FaParams)
        L.fa_params_init.argtypes, L.fa_params_init.restype = [P], None
        for name in ("fa_mha_fwd", "fa_mha_bwd"):
            getattr(L, name).argtypes, getattr(L, name).restype = [P], ctypes.c_int
        L.fa_mha_bwd_workspace_size.argtypes = [P, ctypes.POINTER(ctypes.c_uint64)]
        L.fa_mha_bwd_workspace_size.restype = ctypes.c_int
        L.fa_select_backend.argtypes = [P, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)]
        L.fa_select_backend.restype = ctypes.c_int
        L.fa_last_error.argtypes, L.fa_last_error.restype = [], ctypes.c_char_p
        L.fa_abi_version.argtypes, L.fa_abi_version.restype = [], ctypes.c_uint32
        L.fa_version_string.argtypes, L.fa_version_string.restype = [], ctypes.c_char_p
        L.fa_capabilities.argtypes, L.fa_capabilities.restype = [], ctypes.c_uint32
        L.fa_cuda_device_count.argtypes = [ctypes.POINTER(ctypes.c_int32)]
        L.fa_cuda_device_count.restype = ctypes.c_int
        L.fa_cuda_compute_capability.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)]
        L.fa_cuda_compute_capability.restype = ctypes.c_int
        assert L.fa_abi_version() == FA_ABI_VERSION, "library built for another ABI"

    def version(self):
        return self.lib.fa_version_string().decode()

    def last_error(self):
        return self.lib.fa_last_error().decode()

    def new_params(self):
        p = FaParams()
        self.lib.fa_params_init(ctypes.byref(p))
        return p

    def fwd(self, p):
        return self.lib.fa_mha_fwd(ctypes.byref(p))

    def bwd(self, p):
        return self.lib.fa_mha_bwd(ctypes.byref(p))

    def workspace_size(self, p):
        n = ctypes.c_uint64(0)
        st = self.lib.fa_mha_bwd_workspace_size(ctypes.byref(p), ctypes.byref(n))
        return st, n.value

    def select_backend(self, p, backward):
        b = ctypes.c_int32(-1)
        st = self.lib.fa_select_backend(ctypes.byref(p), 1 if backward else 0, ctypes.byref(b))
        return st, b.value


def _strides(t, varlen):
    """(batch, row, head) element strides of a (batch, seqlen, heads, dim) tensor, or of a packed
    (total, heads, dim) one (batch stride 0)."""
    assert t.stride(-1) == 1, "head_dim must be contiguous"
    if varlen:
        return 0, t.stride(0), t.stride(1)
    return t.stride(0), t.stride(1), t.stride(2)


def torch_dtype_code(dtype):
    import torch
    return {torch.float16: FA_DTYPE_FLOAT16, torch.bfloat16: FA_DTYPE_BFLOAT16,
            torch.float32: FA_DTYPE_FLOAT32}[dtype]


def make_params(lib, q, k, v, out, lse, *, causal=False, scale=0.0, backend=FA_BACKEND_CUDA_SM80,
                cu_seqlens_q=None, cu_seqlens_k=None, max_seqlen_q=None, max_seqlen_k=None,
                dout=None, dq=None, dk=None, dv=None, deterministic=False, workspace=None, stream=None):
    """fa_params for torch tensors in the header's layouts. Varlen when cu_seqlens_q is given."""
    import torch
    varlen = cu_seqlens_q is not None
    p = lib.new_params()
    p.device_type = FA_DEVICE_CUDA if q.is_cuda else FA_DEVICE_CPU
    p.device_index = (q.device.index or 0) if q.is_cuda else 0
    p.backend = backend
    for name, t in (("q", q), ("k", k), ("v", v), ("out", out), ("dout", dout), ("dq", dq), ("dk", dk), ("dv", dv)):
        if t is None:
            continue
        setattr(p, name, t.data_ptr())
        bs, rs, hs = _strides(t, varlen)
        setattr(p, f"{name}_batch_stride", bs)
        setattr(p, f"{name}_row_stride", rs)
        setattr(p, f"{name}_head_stride", hs)
    p.softmax_lse = lse.data_ptr() if lse is not None else None
    if varlen:
        p.cu_seqlens_q = cu_seqlens_q.data_ptr()
        p.cu_seqlens_k = cu_seqlens_k.data_ptr()
        p.batch = cu_seqlens_q.numel() - 1
        p.seqlen_q, p.seqlen_k = max_seqlen_q, max_seqlen_k
        p.num_heads_q, p.num_heads_kv, p.head_dim = q.shape[1], k.shape[1], q.shape[2]
        p.total_q, p.total_k = q.shape[0], k.shape[0]
    else:
        p.batch, p.seqlen_q, p.num_heads_q, p.head_dim = q.shape
        p.seqlen_k, p.num_heads_kv = k.shape[1], k.shape[2]
    p.dtype = p.out_dtype = torch_dtype_code(q.dtype)
    p.softmax_scale = scale
    p.causal = 1 if causal else 0
    p.deterministic = 1 if deterministic else 0
    if workspace is not None:
        p.workspace = workspace.data_ptr()
        p.workspace_bytes = workspace.numel() * workspace.element_size()
    if stream is None and q.is_cuda:
        stream = torch.cuda.current_stream(q.device).cuda_stream
    p.stream = stream
    return p

"""ctypes access to native/include/flashattn.h for the Hopper checks.

The shared harness tests/gpu/flashattn_ctypes.py (fa_params mirror + Library) is reused when present; the
definitions below are the fallback. fill_fwd() adds what the Hopper checks need on top: FP8 dtypes,
out_dtype != dtype, and the q/k/v descales."""
import ctypes
import os
import sys

FA_OK = 0
FA_ERR_INVALID_ARGUMENT = 1
FA_ERR_UNSUPPORTED = 2
FA_DEVICE_CUDA = 1
FA_BACKEND_AUTO, FA_BACKEND_CPU, FA_BACKEND_CUDA_SM80, FA_BACKEND_CUDA_SM90 = 0, 1, 2, 3
FA_DTYPE_FLOAT32, FA_DTYPE_FLOAT16, FA_DTYPE_BFLOAT16, FA_DTYPE_FLOAT8_E4M3 = 0, 1, 2, 3

_STRIDED = ["q", "k", "v", "out", "dout", "dq", "dk", "dv"]


def default_library_path():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", "..", ".."))
    return os.environ.get("FLASHATTN_LIB", os.path.join(root, "build", "lib", "libflashattn.so"))


sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")))
try:
    import flashattn_ctypes as _shared
except ImportError:
    _shared = None

if _shared is not None:
    FaParams = _shared.FaParams

    class Library(_shared.Library):
        def __init__(self, path=None):
            super().__init__(path or default_library_path())

        def params(self):
            return self.new_params()

        def select_backend(self, p, backward=False):
            return super().select_backend(p, backward)

        def last_error(self):
            return (self.lib.fa_last_error() or b"").decode(errors="replace")
else:
    class FaParams(ctypes.Structure):
        _fields_ = (
            [("struct_size", ctypes.c_uint32), ("device_type", ctypes.c_int32), ("device_index", ctypes.c_int32),
             ("backend", ctypes.c_int32)]
            + [(n, ctypes.c_void_p) for n in ("q", "k", "v", "out", "softmax_lse", "dout", "dq", "dk", "dv",
                                              "cu_seqlens_q", "cu_seqlens_k", "stream", "workspace")]
            + [("workspace_bytes", ctypes.c_uint64)]
            + [(f"{t}_{s}_stride", ctypes.c_int64) for t in _STRIDED for s in ("batch", "row", "head")]
            + [(n, ctypes.c_int32) for n in ("batch", "seqlen_q", "seqlen_k", "num_heads_q", "num_heads_kv",
                                             "head_dim", "dtype", "out_dtype")]
            + [("softmax_scale", ctypes.c_float), ("causal", ctypes.c_int32), ("deterministic", ctypes.c_int32),
               ("q_descale", ctypes.c_float), ("k_descale", ctypes.c_float), ("v_descale", ctypes.c_float)]
            + [("total_q", ctypes.c_int64), ("total_k", ctypes.c_int64)]
        )

    assert ctypes.sizeof(FaParams) == 392, ctypes.sizeof(FaParams)

    class Library:
        def __init__(self, path=None):
            self.lib = ctypes.CDLL(path or default_library_path())
            L = self.lib
            L.fa_params_init.argtypes = [ctypes.POINTER(FaParams)]
            L.fa_params_init.restype = None
            for name in ("fa_mha_fwd",):
                getattr(L, name).argtypes = [ctypes.POINTER(FaParams)]
                getattr(L, name).restype = ctypes.c_int
            L.fa_select_backend.argtypes = [ctypes.POINTER(FaParams), ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)]
            L.fa_select_backend.restype = ctypes.c_int
            L.fa_last_error.argtypes = []
            L.fa_last_error.restype = ctypes.c_char_p
            L.fa_version_string.restype = ctypes.c_char_p
            L.fa_capabilities.restype = ctypes.c_uint32

        def last_error(self):
            return (self.lib.fa_last_error() or b"").decode(errors="replace")

        def version(self):
            return self.lib.fa_version_string().decode()

        def fwd(self, p):
            return self.lib.fa_mha_fwd(ctypes.byref(p))

        def select_backend(self, p, backward=False):
            b = ctypes.c_int32(-1)
            st = self.lib.fa_select_backend(ctypes.byref(p), 1 if backward else 0, ctypes.byref(b))
            return st, b.value

        def params(self):
            p = FaParams()
            self.lib.fa_params_init(ctypes.byref(p))
            return p


def dtype_code(torch, dt):
    return {torch.float32: FA_DTYPE_FLOAT32, torch.float16: FA_DTYPE_FLOAT16, torch.bfloat16: FA_DTYPE_BFLOAT16,
            torch.float8_e4m3fn: FA_DTYPE_FLOAT8_E4M3}[dt]


def fill_fwd(lib, torch, q, k, v, out, lse, *, causal, backend, scale=0.0, descales=(1.0, 1.0, 1.0), stream=None):
    """Params of one forward on (batch, seqlen, heads, head_dim) tensors (strides taken from the views)."""
    p = lib.params()
    p.device_type = FA_DEVICE_CUDA
    p.device_index = q.device.index or 0
    p.backend = backend
    p.q, p.k, p.v, p.out = q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()
    p.softmax_lse = lse.data_ptr() if lse is not None else None
    for name, t in (("q", q), ("k", k), ("v", v), ("out", out)):
        setattr(p, f"{name}_batch_stride", t.stride(0))
        setattr(p, f"{name}_row_stride", t.stride(1))
        setattr(p, f"{name}_head_stride", t.stride(2))
    p.batch, p.seqlen_q, p.num_heads_q, p.head_dim = q.shape
    p.seqlen_k, p.num_heads_kv = k.shape[1], k.shape[2]
    p.dtype = dtype_code(torch, q.dtype)
    p.out_dtype = dtype_code(torch, out.dtype)
    p.softmax_scale = scale
    p.causal = 1 if causal else 0
    p.q_descale, p.k_descale, p.v_descale = descales
    s = stream if stream is not None else torch.cuda.current_stream(q.device)
    p.stream = s.cuda_stream
    return p


def fill_fwd_varlen(lib, torch, q, k, v, out, lse, cu_q, cu_k, max_q, max_k, *, causal, backend, totals=True,
                    descales=(1.0, 1.0, 1.0)):
    """Params of one forward on packed (total, heads, head_dim) tensors with int32 prefix sums cu_q / cu_k on
    the device; totals=False leaves total_q / total_k unset (0)."""
    p = lib.params()
    p.device_type = FA_DEVICE_CUDA
    p.device_index = q.device.index or 0
    p.backend = backend
    p.q, p.k, p.v, p.out = q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()
    p.softmax_lse = lse.data_ptr()
    p.cu_seqlens_q, p.cu_seqlens_k = cu_q.data_ptr(), cu_k.data_ptr()
    for name, t in (("q", q), ("k", k), ("v", v), ("out", out)):
        setattr(p, f"{name}_row_stride", t.stride(0))
        setattr(p, f"{name}_head_stride", t.stride(1))
    p.batch = cu_q.numel() - 1
    p.seqlen_q, p.seqlen_k = max_q, max_k
    p.num_heads_q, p.num_heads_kv, p.head_dim = q.shape[1], k.shape[1], q.shape[2]
    if totals:
        p.total_q, p.total_k = q.shape[0], k.shape[0]
    p.dtype = dtype_code(torch, q.dtype)
    p.out_dtype = dtype_code(torch, out.dtype)
    p.causal = 1 if causal else 0
    p.q_descale, p.k_descale, p.v_descale = descales
    p.stream = torch.cuda.current_stream(q.device).cuda_stream
    return p

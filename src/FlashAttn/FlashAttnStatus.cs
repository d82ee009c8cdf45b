namespace FlashAttn;

/// <summary>Mirror of <c>fa_status</c>.</summary>
public enum FlashAttnStatus
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A shape, stride, pointer or value is wrong; the message says which.</summary>
    InvalidArgument = 1,
    /// <summary>Valid, but no compiled backend handles it (dtype, head_dim, architecture).</summary>
    Unsupported = 2,
    /// <summary>The requested backend was not compiled in or has no device.</summary>
    BackendUnavailable = 3,
    /// <summary>The CUDA runtime reported an error.</summary>
    Device = 4,
    /// <summary>Host or device allocation failed.</summary>
    OutOfMemory = 5,
    /// <summary>A bug in the native library.</summary>
    Internal = 6,
}

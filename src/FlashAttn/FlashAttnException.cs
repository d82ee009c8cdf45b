namespace FlashAttn;

/// <summary>Base of every exception FlashAttn raises that is not an argument error.</summary>
public class FlashAttnException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FlashAttnException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public FlashAttnException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// The native library is missing, cannot be loaded, or was built for another ABI / struct layout.
/// Raised at the first call that needs the library, never as a crash.
/// </summary>
public sealed class FlashAttnLibraryException : FlashAttnException
{
    /// <summary>Creates the exception.</summary>
    public FlashAttnLibraryException(string message) : base(message) { }
}

/// <summary>A native entry point returned a failure status; carries the status and the library's message.</summary>
public sealed class FlashAttnNativeException : FlashAttnException
{
    /// <summary>Creates the exception.</summary>
    public FlashAttnNativeException(FlashAttnStatus status, string operation, string nativeMessage)
        : base(Format(status, operation, nativeMessage))
    {
        Status = status;
        Operation = operation;
        NativeMessage = nativeMessage;
    }

    /// <summary>The fa_status the call returned.</summary>
    public FlashAttnStatus Status { get; }

    /// <summary>The native entry point that failed, e.g. "fa_mha_fwd".</summary>
    public string Operation { get; }

    /// <summary>fa_last_error() text for the failing call (may be empty).</summary>
    public string NativeMessage { get; }

    private static string Format(FlashAttnStatus status, string operation, string nativeMessage) =>
        string.IsNullOrEmpty(nativeMessage)
            ? $"{operation} failed with {status}."
            : $"{operation} failed with {status}: {nativeMessage}";
}

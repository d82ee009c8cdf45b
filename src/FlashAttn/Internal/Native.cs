using System.Runtime.InteropServices;
using FlashAttn.Interop;

namespace FlashAttn.Internal;

/// <summary>Turns fa_status codes into exceptions, with the thread's fa_last_error() text.</summary>
internal static unsafe class Native
{
    internal static void Check(int status, string operation)
    {
        if (status == 0)
            return;
        // Read on the calling thread right after the failing call: the message is thread-local.
        string message = Marshal.PtrToStringUTF8((nint)NativeMethods.fa_last_error()) ?? string.Empty;
        var code = Enum.IsDefined(typeof(FlashAttnStatus), status) ? (FlashAttnStatus)status : FlashAttnStatus.Internal;
        throw new FlashAttnNativeException(code, operation, message);
    }
}

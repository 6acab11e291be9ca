using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Regards.Portal.Storage;

/// <summary>posix_fadvise(WILLNEED), which .NET does not expose: asks Linux to start reading a file's range into
/// the page cache asynchronously.</summary>
internal static class PageCacheHints
{
    private const int WillNeedAdvice = 3; // POSIX_FADV_WILLNEED on Linux

    // Cleared when the C library does not export the call (another libc): hints are then simply not given.
    private static volatile bool available = OperatingSystem.IsLinux();

    // DllImport rather than LibraryImport: the signature is blittable, and the project stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(SafeFileHandle fd, long offset, long length, int advice);
#pragma warning restore SYSLIB1054

    /// <summary>False where hints cannot be given (not Linux, or a C library without the call).</summary>
    public static bool Available => available;

    /// <summary>Returns false when the hint was not given (it changes nothing then); never throws.</summary>
    public static bool WillNeed(SafeFileHandle handle, long length)
    {
        if (!available)
        {
            return false;
        }
        try
        {
            return PosixFadvise(handle, 0, length, WillNeedAdvice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            available = false;
            return false;
        }
    }
}

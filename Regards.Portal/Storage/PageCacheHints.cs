using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Regards.Portal.Storage;

/// <summary>posix_fadvise(WILLNEED), which .NET does not expose: asks Linux to start reading a file's range into
/// the page cache asynchronously.</summary>
internal static class PageCacheHints
{
    private const int WillNeedAdvice = 3; // POSIX_FADV_WILLNEED on Linux

    // DllImport rather than LibraryImport: the signature is blittable, and the project stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(SafeFileHandle fd, long offset, long length, int advice);
#pragma warning restore SYSLIB1054

    /// <summary>Returns false when the hint was refused (it changes nothing then).</summary>
    public static bool WillNeed(SafeFileHandle handle, long length) =>
        OperatingSystem.IsLinux() && PosixFadvise(handle, 0, length, WillNeedAdvice) == 0;
}

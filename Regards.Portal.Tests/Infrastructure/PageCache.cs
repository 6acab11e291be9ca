using System.Runtime.InteropServices;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// Drops files from the kernel's page cache (fsync, then posix_fadvise DONTNEED: no root needed), so a benchmark
/// reads them from the disk itself rather than from memory.
/// </summary>
internal static class PageCache
{
    private const int DontNeed = 4; // POSIX_FADV_DONTNEED on Linux

    // DllImport rather than LibraryImport: the signature is blittable and the test project stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(nint fd, long offset, long length, int advice);
#pragma warning restore SYSLIB1054

    public static void Evict(IEnumerable<string> paths)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The cold-read benchmark needs Linux's posix_fadvise.");
        }
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            stream.Flush(flushToDisk: true); // only clean pages can be dropped
            var result = PosixFadvise(stream.SafeFileHandle.DangerousGetHandle(), 0, 0, DontNeed);
            if (result != 0)
            {
                throw new IOException($"posix_fadvise failed on {path}: error {result}.");
            }
        }
    }

    /// <summary>Bytes of the file now in the page cache, as util-linux's fincore reports them.</summary>
    public static async Task<long> ResidentBytesAsync(string path)
    {
        var (code, output) = await Tools.RunAsync("fincore", $"-b -n -o RES \"{path}\"");
        Assert.True(code == 0, output);
        return long.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Diagnostics;
using System.Text;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>Runs a real command-line client (unzip, aria2c, curl) and returns its exit code and output.</summary>
internal static class Tools
{
    /// <summary>A loopback port free now (for a server that must be told its port: PostgreSQL, nginx, an instance behind it).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<(int Code, string Output)> RunAsync(string file, string arguments, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        }) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// Runs a reader in a UTF-8 locale (its file names may not be ASCII) with <paramref name="writeInput"/> streamed into its
    /// standard input, a pipe (it cannot seek), while it runs; returns its exit code, standard output and standard error apart.
    /// </summary>
    public static async Task<(int Code, string Output, string Errors)> RunReaderAsync(string file, string arguments, Func<Stream, Task>? writeInput = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
        };
        start.Environment["LC_ALL"] = "C.UTF-8";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        // Killed when late, so neither a hung writer nor a hung client outlives the test.
        await using var kill = timeout.Token.Register(() => process.Kill(entireProcessTree: true));
        var cut = "";
        try
        {
            await using var input = process.StandardInput.BaseStream;
            if (writeInput is not null)
            {
                await writeInput(input);
            }
        }
        catch (IOException e)
        {
            // The client stopped reading (it failed or ended early): its exit code and errors say why.
            cut = $"\n(its input was cut: {e.Message})";
        }
        await process.WaitForExitAsync(CancellationToken.None);
        var late = timeout.IsCancellationRequested ? $"\n(killed after {timeoutSeconds} s)" : "";
        return (process.ExitCode, await stdout, await stderr + cut + late);
    }
}

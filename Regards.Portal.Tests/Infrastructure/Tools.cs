namespace Regards.Portal.Tests.Infrastructure;

/// <summary>Runs a real command-line client (unzip, aria2c, curl) and returns its exit code and output.</summary>
internal static class Tools
{
    public static async Task<(int Code, string Output)> RunAsync(string file, string arguments, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        }) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// The real app as a child process on 127.0.0.1 (for tests that kill it with SIGKILL and start it again on the
/// same data folder). Uses the Regards.Portal.dll built next to the tests, or the published portal named by
/// REGARDS_PORTAL_DIR (the benchmarks: .ci/bench.sh publishes it as a data centre deploys it, precompiled).
/// </summary>
public sealed partial class PortalProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> output = [];

    private PortalProcess(Process process) => this.process = process;

    public Uri BaseAddress { get; private set; } = null!;

    public int ProcessId => process.Id;

    /// <summary>The server's resident memory now (bytes).</summary>
    public long WorkingSet
    {
        get
        {
            process.Refresh();
            return process.WorkingSet64;
        }
    }

    public IReadOnlyList<string> Output
    {
        get
        {
            lock (output)
            {
                return output.ToList();
            }
        }
    }

    /// <param name="port">A fixed loopback port (behind a load balancer); by default any free one.</param>
    public static async Task<PortalProcess> StartAsync(string dataPath, IReadOnlyDictionary<string, string>? settings = null, TimeSpan? timeout = null, int port = 0)
    {
        var start = App(dataPath, "--urls", $"http://127.0.0.1:{port}");
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__")] = value;
        }

        var child = new PortalProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
        child.process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child.process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child.process.BeginOutputReadLine();
        child.process.BeginErrorReadLine();

        var started = await Task.WhenAny(child.listening.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        if (started != child.listening.Task)
        {
            await child.KillAsync();
            throw new TimeoutException("The portal did not start listening:\n" + string.Join('\n', child.Output.TakeLast(40)));
        }
        child.BaseAddress = await child.listening.Task;
        return child;
    }

    /// <summary>
    /// Settings that start the portal as a data centre runs it: the Production environment, without Development's
    /// exception page and static-asset checks on every request. Its data folder was seeded in Development (the demo
    /// users and their passwords are in the database).
    /// </summary>
    public static Dictionary<string, string> AsDeployed(Dictionary<string, string> settings)
    {
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        return settings;
    }

    /// <summary>Runs the app's <c>seed</c> command on that data folder (demo catalog plus a generated dataset) and waits for it.</summary>
    public static async Task SeedAsync(string dataPath, params string[] arguments)
    {
        using var seed = Process.Start(App(dataPath, ["seed", .. arguments])) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = seed.StandardOutput.ReadToEndAsync();
        var stderr = seed.StandardError.ReadToEndAsync();
        await seed.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        if (seed.ExitCode != 0)
        {
            throw new InvalidOperationException($"seed failed ({seed.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>
    /// Runs the app with those arguments until it exits by itself (a command, or a start that refuses to go on), with
    /// <paramref name="input"/> on its standard input; its exit code and everything it wrote.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(string dataPath, IReadOnlyDictionary<string, string> settings, string? input, params string[] arguments)
    {
        var start = App(dataPath, [.. arguments, "--urls", "http://127.0.0.1:0"]);
        start.RedirectStandardInput = true;
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__")] = value;
        }
        using var run = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await run.StandardInput.WriteLineAsync(input);
        }
        run.StandardInput.Close();
        try
        {
            await run.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            run.Kill(entireProcessTree: true);
            throw new TimeoutException($"The portal did not exit:\n{await stdout}\n{await stderr}");
        }
        return (run.ExitCode, await stdout + await stderr);
    }

    /// <summary>The folder of the portal's binaries: published (REGARDS_PORTAL_DIR) or built next to the tests.</summary>
    private static string AppFolder =>
        Environment.GetEnvironmentVariable("REGARDS_PORTAL_DIR") is { Length: > 0 } published ? Path.GetFullPath(published) : AppContext.BaseDirectory;

    /// <summary>The app, on that data folder with the small demo catalog, its output captured.</summary>
    private static ProcessStartInfo App(string dataPath, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppFolder, "Regards.Portal.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppFolder,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Database__DataPath"] = dataPath;
        start.Environment["Seed__DemoObjectsPerDataset"] = "20";
        return start;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (output)
        {
            output.Add(line);
        }
        var match = ListeningRegex().Match(line);
        if (match.Success)
        {
            listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(100) };

    /// <summary>SIGKILL: no graceful stop, no hosted-service shutdown, leases left behind.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningRegex();
}

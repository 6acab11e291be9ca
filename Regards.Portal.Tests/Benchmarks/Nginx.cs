using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Regards.Portal.Tests.Benchmarks;

/// <summary>
/// Debian's nginx serving a folder (the benchmark's own storage) with sendfile, as the fastest reference on the machine:
/// a throw-away process in the foreground (<c>daemon off</c>) with its own configuration, pid file, logs and temp folders
/// in a temp folder, on a free loopback port; never the system service. Stopped (and its folder removed) on dispose.
/// </summary>
public sealed class Nginx : IAsyncDisposable
{
    private readonly Process process;
    private readonly string folder;

    private Nginx(Process process, string folder, Uri baseAddress)
    {
        this.process = process;
        this.folder = folder;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static string Binary => File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

    public static async Task<Nginx> StartAsync(string root)
    {
        var folder = Path.Combine(Path.GetTempPath(), "regards-nginx", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var port = FreePort();
        // Two workers for two cores (as Kestrel uses both), sendfile, no access log; run as root, its workers are "nobody".
        var config = $$"""
            worker_processes auto;
            daemon off;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                keepalive_timeout 120s;
                default_type application/octet-stream;
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{root}};
                    location / { }
                }
            }
            """;
        var configPath = Path.Combine(folder, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        // -e: the error log before the configuration is read (else the system's /var/log/nginx/error.log).
        var start = new ProcessStartInfo(Binary, ["-p", folder, "-e", Path.Combine(folder, "error.log"), "-c", configPath])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
        var nginx = new Nginx(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return nginx;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var log = File.Exists(Path.Combine(folder, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(folder, "error.log")) : "";
                await nginx.DisposeAsync();
                throw new InvalidOperationException($"nginx did not start listening on {port}:\n{log}");
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Debian's wrk as the load generator, a process of its own: <paramref name="connections"/> keep-alive connections for
/// <paramref name="seconds"/>, each request a random one of <paramref name="paths"/> (a Lua script). Returns the
/// requests per second and the count of non-2xx/3xx answers and socket errors.
/// </summary>
public static partial class Wrk
{
    public static async Task<(double RequestsPerSecond, long Errors, string Output)> RunAsync(Uri baseAddress, IReadOnlyList<string> paths, int connections, int seconds, int threads = 2)
    {
        var script = Path.Combine(Path.GetTempPath(), $"regards-wrk-{Guid.NewGuid():N}.lua");
        var list = string.Join(",\n", paths.Select(p => "\"" + p.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));
        await File.WriteAllTextAsync(script, $$"""
            local paths = { {{list}} }
            request = function()
              return wrk.format("GET", paths[math.random(#paths)])
            end
            """);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("wrk", ["-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{seconds}s", "--timeout", "10s", "-s", script, baseAddress.ToString()])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            }) ?? throw new InvalidOperationException("wrk did not start");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds + 60));
            var output = await stdout + await stderr;
            if (process.ExitCode != 0 || RateRegex().Match(output) is not { Success: true } rate)
            {
                throw new InvalidOperationException($"wrk failed ({process.ExitCode}):\n{output}");
            }
            long errors = 0;
            if (NonSuccessRegex().Match(output) is { Success: true } non)
            {
                errors += long.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            foreach (Match m in SocketErrorsRegex().Matches(output))
            {
                errors += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            return (double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), errors, output);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RateRegex();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccessRegex();

    [GeneratedRegex(@"(?:connect|read|write|timeout) (\d+)")]
    private static partial Regex SocketErrorsRegex();
}

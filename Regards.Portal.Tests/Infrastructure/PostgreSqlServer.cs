using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Npgsql;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// One throw-away PostgreSQL cluster for the whole test run, started by the first test that asks for it: <c>initdb</c>
/// in a temp folder, then <c>pg_ctl start</c> on a free port of 127.0.0.1 only, its unix socket in that folder too. It is
/// stopped and its folder deleted when the test process exits, and by a detached watchdog if the process dies without
/// exiting cleanly (never a system service). Each test factory makes its own database in it (<see cref="CreateDatabase"/>).
/// <para>The binaries are Debian's package <c>postgresql</c> (<c>/usr/lib/postgresql/&lt;version&gt;/bin</c>), which the
/// test command installs (<c>.ci/install-tools.sh</c>); <c>REGARDS_PG_BIN</c> names another folder. initdb refuses to run
/// as root: as root the cluster belongs to the <c>postgres</c> user that the package creates.</para>
/// <para>With <c>REGARDS_PG_EXPLAIN=1</c> the server log (kept with <c>REGARDS_PG_KEEP=1</c>) has every statement over
/// half a second, and the analysed plan of those over one (auto_explain): how the million-object cart add was found to
/// be planned on stale statistics.</para>
/// </summary>
public sealed class PostgreSqlServer
{
    private const string Superuser = "postgres";

    private static readonly Lazy<PostgreSqlServer> shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The run's cluster, started on first use.</summary>
    public static PostgreSqlServer Shared => shared.Value;

    private readonly string bin;
    private readonly string folder;
    private readonly string? runAs;
    private readonly string password;

    public int Port { get; }

    private PostgreSqlServer(string bin, string folder, string? runAs, string password, int port) =>
        (this.bin, this.folder, this.runAs, this.password, Port) = (bin, folder, runAs, password, port);

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = IPAddress.Loopback.ToString(), Port = Port, Username = Superuser, Password = password, Database = database,
        // A failing statement's parameters in the exception: the tests' failures say what was written.
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>A new empty database (a test factory's own), named from <paramref name="prefix"/> and a random part.</summary>
    public string CreateDatabase(string prefix)
    {
        var name = $"{new string(prefix.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray())}_{Guid.NewGuid():N}";
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        create.ExecuteNonQuery();
        return name;
    }

    /// <summary>Drops a test's database, closing whatever connections its app left in its pools.</summary>
    public void DropDatabase(string name)
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString(name)));
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        drop.ExecuteNonQuery();
    }

    private static PostgreSqlServer Start()
    {
        var bin = FindBinaries();
        var runAs = IsRoot() ? Superuser : null;
        // initdb's steps write to /dev/null as the cluster's user: a /dev/null that something replaced by a root-owned
        // file fails them with "Permission denied" deep in initdb's output.
        try
        {
            Run("test", ["-c", "/dev/null"]);
        }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException("/dev/null is not the null device (something replaced it by a file): restore it (mknod -m 666 /dev/null c 1 3) and run again.");
        }
        var folder = Path.Combine(Path.GetTempPath(), $"regards-pg-{Guid.NewGuid():N}");
        try
        {
            return Start(bin, runAs, folder);
        }
        catch when (!Keep)
        {
            // initdb or the start failed: nothing of the cluster is left behind (a started server is stopped first).
            try
            {
                Run(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(folder, "data"), "-m", "immediate", "stop"], runAs);
            }
            catch (InvalidOperationException)
            {
                // Not running.
            }
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
            throw;
        }
    }

    private static PostgreSqlServer Start(string bin, string? runAs, string folder)
    {
        var data = Path.Combine(folder, "data");
        var sockets = Path.Combine(folder, "run");
        Directory.CreateDirectory(sockets);
        Run("chmod", ["700", folder]);
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var passwordFile = Path.Combine(folder, "password");
        File.WriteAllText(passwordFile, password + "\n");
        if (runAs is not null)
        {
            Run("chown", ["-R", $"{runAs}:", folder]);
        }

        // No fsync anywhere: the cluster lives for one test run. An ICU root collation, as a production server would
        // sort text linguistically (a C collation would hide ordering that differs from SQLite's byte order).
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", Superuser, "--pwfile", passwordFile, "--auth", "scram-sha-256",
            "--encoding", "UTF8", "--locale", "C.UTF-8", "--locale-provider", "icu", "--icu-locale", "und", "--no-sync", "--no-instructions"], runAs);
        File.Delete(passwordFile);

        // Free port chosen now, taken by the server a moment later: another process may take it in between, then try again.
        for (var attempt = 1; ; attempt++)
        {
            var port = Tools.FreePort();
            File.AppendAllText(Path.Combine(data, "postgresql.conf"), $"""

                listen_addresses = '127.0.0.1'
                port = {port}
                unix_socket_directories = '{sockets}'
                max_connections = 300
                shared_buffers = 64MB
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                {(SlowPlans ? SlowPlanSettings : "")}
                """);
            try
            {
                Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "start"], runAs);
            }
            catch (InvalidOperationException) when (attempt < 3 && File.ReadAllText(Path.Combine(folder, "server.log")).Contains("could not bind", StringComparison.Ordinal))
            {
                continue;
            }
            var server = new PostgreSqlServer(bin, folder, runAs, password, port);
            server.StopAtExit(data);
            return server;
        }
    }

    /// <summary>Stops the cluster and deletes its folder when this process exits; a detached watchdog does it if the process dies.</summary>
    private void StopAtExit(string data)
    {
        var pgCtl = Path.Combine(bin, "pg_ctl");
        var stop = runAs is null ? $"'{pgCtl}' -D '{data}' -m immediate stop" : $"runuser -u {runAs} -- '{pgCtl}' -D '{data}' -m immediate stop";
        // setsid: not in the test run's process group, so a Ctrl-C or a kill of the group leaves it to clean up. Its output
        // goes nowhere: tail -f ends as soon as the pipe it writes to is closed (this process disposes its end at once).
        var watchdog = new ProcessStartInfo("setsid", ["bash", "-c",
            $"exec </dev/null >/dev/null 2>&1; tail --pid={Environment.ProcessId} -f /dev/null; {stop}; {(Keep ? "true" : $"rm -rf '{folder}'")}"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        Process.Start(watchdog)?.Dispose();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Run(pgCtl, ["-D", data, "-m", "immediate", "stop"], runAs);
                if (!Keep)
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // The watchdog tries again once this process is gone.
            }
        };
    }

    /// <summary><c>REGARDS_PG_EXPLAIN=1</c>: slow statements and their plans in server.log.</summary>
    private static bool SlowPlans => Environment.GetEnvironmentVariable("REGARDS_PG_EXPLAIN") == "1";

    private const string SlowPlanSettings = """
        log_min_duration_statement = 500
        shared_preload_libraries = 'auto_explain'
        auto_explain.log_min_duration = 1000
        auto_explain.log_analyze = on
        """;

    /// <summary><c>REGARDS_PG_KEEP=1</c> keeps the cluster's folder (its server.log) after the run, to see what the server said.</summary>
    private static bool Keep => Environment.GetEnvironmentVariable("REGARDS_PG_KEEP") == "1";

    private static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("REGARDS_PG_BIN") is { Length: > 0 } configured)
        {
            return configured;
        }
        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            "The PostgreSQL tests need Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/<version>/bin): " +
            "run .ci/install-tools.sh, or set REGARDS_PG_BIN to the folder of initdb and pg_ctl.");
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    private static bool IsRoot() => GetEffectiveUserId() == 0;

    /// <summary>Runs a command (as <paramref name="runAs"/> through runuser when given) and throws with its output if it fails.</summary>
    private static void Run(string file, IEnumerable<string> arguments, string? runAs = null)
    {
        var start = runAs is null ? new ProcessStartInfo(file, arguments) : new ProcessStartInfo("runuser", ["-u", runAs, "--", file, .. arguments]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        // Server messages in English whatever the machine's language; the ICU collation does not depend on it.
        start.Environment["LC_ALL"] = "C.UTF-8";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(file)} did not end within 2 minutes");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        }
    }
}

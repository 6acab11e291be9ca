namespace Regards.Portal.Tests.Benchmarks;

/// <summary>
/// Benchmarks are tests in the category "Benchmark", excluded from the test command and run by
/// <c>.ci/bench.sh</c> in Release. They assert correctness only; their figures go to one table
/// (<c>.ci/out/bench.tsv</c>) that the command prints: scenario, size, figure, the nginx reference and its ratio (where
/// nginx can do the same work: serving the same files), the Kestrel (or other) reference and its ratio, target.
/// </summary>
public static class BenchmarkReport
{
    public const string Category = "Benchmark";

    private static readonly Lock Gate = new();

    public static string OutputPath =>
        Environment.GetEnvironmentVariable("REGARDS_BENCH_OUT") is { Length: > 0 } path
            ? path
            : Path.Combine(RepositoryRoot(), ".ci", "out", "bench.tsv");

    /// <param name="id">P1..P6 of quality.md §2.</param>
    /// <param name="figure">The measured figure with its unit.</param>
    /// <param name="reference">The reference measured in the same run, or "-".</param>
    /// <param name="ratio">figure ÷ reference (or the target ratio's quantity), or null.</param>
    /// <param name="nginx">Debian's nginx doing the same (serving the same files), measured in the same run, or "-".</param>
    /// <param name="nginxRatio">figure ÷ nginx's, or null.</param>
    public static void Record(string id, string scenario, string size, string figure, string reference, double? ratio, string target,
        string nginx = "-", double? nginxRatio = null)
    {
        static string R(double? value) => value is { } r ? r.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-";
        var line = string.Join('\t', id, scenario, size, figure, nginx, R(nginxRatio), reference, R(ratio), target);
        lock (Gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(OutputPath)!);
            File.AppendAllLines(OutputPath, [line]);
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Regards.Portal.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>Benchmarks run one at a time: figures measured side by side would measure each other.</summary>
[CollectionDefinition(BenchmarkReport.Category, DisableParallelization = true)]
public sealed class BenchmarkCollection;

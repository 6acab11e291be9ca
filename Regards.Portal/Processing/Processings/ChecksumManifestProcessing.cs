using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Regards.Portal.Catalog;

namespace Regards.Portal.Processing.Processings;

/// <summary>
/// One manifest per execution listing the SHA-256 and size of every input, computed from the bytes actually staged
/// (not copied from the catalog). The <c>sha256sum</c> format checks with <c>sha256sum -c</c> next to the files.
/// The manifest is meant to cover the whole selection, so the selection may not be split.
/// </summary>
public sealed class ChecksumManifestProcessing : IProcessing
{
    public const string Id = "checksum-manifest";

    public string BusinessId => Id;
    public string Label(string lang) => lang == "fr" ? "Manifeste de sommes de contrôle" : "Checksum manifest";
    public string Description(string lang) => lang == "fr"
        ? "Un manifeste listant la taille et le SHA-256 de chaque fichier de la sélection."
        : "One manifest listing the size and SHA-256 of every file of the selection.";

    public IReadOnlyList<ProcessingParameter> Parameters { get; } =
        [new("format", ProcessingParameterType.String, "sha256sum", ["sha256sum", "csv"])];

    public IReadOnlyList<DataType> RequiredDataTypes { get; } = [DataType.RawData];
    public ProcessingSizeLimit SizeLimit { get; } = new(ProcessingSizeLimitType.Files, 10_000);
    public ProcessingCardinality Cardinality => ProcessingCardinality.OnePerExecution;
    public bool ForbidSplitInSuborders => true;

    public async Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken)
    {
        var csv = execution.Text("format") == "csv";
        await using var output = execution.CreateOutput(csv ? "manifest.csv" : "manifest.sha256", csv ? "text/csv" : "text/plain", null);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\n" };
        if (csv)
        {
            await writer.WriteLineAsync("name,size,sha256");
        }
        foreach (var input in execution.Inputs.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            await using var source = input.OpenRead();
            var hash = Convert.ToHexStringLower(await Sha256Async(source, cancellationToken));
            await writer.WriteLineAsync(csv ? $"{Csv(input.Name)},{input.Size},{hash}" : $"{hash}  {input.Name}");
        }
    }

    /// <summary>SHA-256 read in large chunks (storage streams are unbuffered; HashDataAsync reads 4 KB at a time).</summary>
    private static async Task<byte[]> Sha256Async(Stream source, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hash.GetHashAndReset();
    }

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}

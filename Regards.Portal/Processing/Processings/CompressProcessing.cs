using System.IO.Compression;
using Regards.Portal.Catalog;

namespace Regards.Portal.Processing.Processings;

/// <summary>gzip of each input file (RFC 1952), one <c>.gz</c> output per input.</summary>
public sealed class CompressProcessing : IProcessing
{
    public const string Id = "compress";

    public string BusinessId => Id;
    public string Label(string lang) => lang == "fr" ? "Compression gzip" : "gzip compression";
    public string Description(string lang) => lang == "fr"
        ? "Compresse chaque fichier au format gzip (un fichier .gz par fichier commandé)."
        : "Compresses each file with gzip (one .gz file per ordered file).";

    public IReadOnlyList<ProcessingParameter> Parameters { get; } =
        [new("level", ProcessingParameterType.String, "optimal", ["fastest", "optimal", "smallest"])];

    public IReadOnlyList<DataType> RequiredDataTypes { get; } = [DataType.RawData, DataType.QuicklookSd, DataType.QuicklookMd, DataType.QuicklookHd];
    public ProcessingSizeLimit SizeLimit => ProcessingSizeLimit.None;
    public ProcessingCardinality Cardinality => ProcessingCardinality.OnePerInputFile;
    public bool ForbidSplitInSuborders => false;

    public async Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken)
    {
        var level = execution.Text("level") switch
        {
            "fastest" => CompressionLevel.Fastest,
            "smallest" => CompressionLevel.SmallestSize,
            _ => CompressionLevel.Optimal,
        };
        foreach (var input in execution.Inputs)
        {
            await using var source = input.OpenRead();
            await using var output = execution.CreateOutput(input.Name + ".gz", "application/gzip", input);
            await using var gzip = new GZipStream(output, level, leaveOpen: true);
            await source.CopyToAsync(gzip, 128 * 1024, cancellationToken);
        }
    }
}

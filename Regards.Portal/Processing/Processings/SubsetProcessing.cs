using System.Buffers;
using Regards.Portal.Catalog;

namespace Regards.Portal.Processing.Processings;

/// <summary>
/// Keeps a range of each input: bytes [from, to) or lines from..to (1-based, inclusive). One output per input,
/// streamed: a line subset reads the input once and never holds more than a buffer.
/// </summary>
public sealed class SubsetProcessing : IProcessing
{
    public const string Id = "subset";

    public string BusinessId => Id;
    public string Label(string lang) => lang == "fr" ? "Extraction d'une plage" : "Subset";
    public string Description(string lang) => lang == "fr"
        ? "Garde une plage d'octets [from, to) ou de lignes from..to de chaque fichier de données."
        : "Keeps a byte range [from, to) or the lines from..to of each data file.";

    public IReadOnlyList<ProcessingParameter> Parameters { get; } =
    [
        new("unit", ProcessingParameterType.String, "bytes", ["bytes", "lines"]),
        new("from", ProcessingParameterType.Integer, "0", Min: 0),
        new("to", ProcessingParameterType.Integer, "1024", Min: 1),
    ];

    public IReadOnlyList<DataType> RequiredDataTypes { get; } = [DataType.RawData];

    /// <summary>1 GiB of inputs per execution: bigger selections are split over several sub-orders.</summary>
    public ProcessingSizeLimit SizeLimit { get; } = new(ProcessingSizeLimitType.Bytes, 1L << 30);
    public ProcessingCardinality Cardinality => ProcessingCardinality.OnePerInputFile;
    public bool ForbidSplitInSuborders => false;

    public async Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken)
    {
        var lines = execution.Text("unit") == "lines";
        var from = execution.Integer("from");
        var to = execution.Integer("to");
        if (to < from)
        {
            throw new ArgumentException($"'to' ({to}) must not be lower than 'from' ({from}).");
        }
        foreach (var input in execution.Inputs)
        {
            await using var source = input.OpenRead();
            var name = $"{Path.GetFileNameWithoutExtension(input.Name)}.subset{Path.GetExtension(input.Name)}";
            await using var output = execution.CreateOutput(name, lines ? "text/plain" : "application/octet-stream", input);
            if (lines)
            {
                await CopyLinesAsync(source, output, from, to, cancellationToken);
            }
            else
            {
                await CopyBytesAsync(source, output, from, to, cancellationToken);
            }
        }
    }

    private static async Task CopyBytesAsync(Stream source, Stream output, long from, long to, CancellationToken cancellationToken)
    {
        if (from >= source.Length)
        {
            return;
        }
        source.Seek(from, SeekOrigin.Begin);
        var remaining = Math.Min(to, source.Length) - from;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (remaining > 0)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies lines from..to (1-based, inclusive), line endings kept as they are.</summary>
    private static async Task CopyLinesAsync(Stream source, Stream output, long from, long to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long line = 1;
            int read;
            while (line <= to && (read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                var start = 0;
                for (var i = 0; i < read && line <= to; i++)
                {
                    if (buffer[i] != (byte)'\n')
                    {
                        continue;
                    }
                    if (line >= from)
                    {
                        await output.WriteAsync(buffer.AsMemory(start, i + 1 - start), cancellationToken);
                    }
                    line++;
                    start = i + 1;
                }
                if (line >= from && line <= to && start < read)
                {
                    await output.WriteAsync(buffer.AsMemory(start, read - start), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

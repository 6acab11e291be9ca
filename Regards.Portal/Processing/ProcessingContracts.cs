using System.Text.Json.Serialization;
using Regards.Portal.Catalog;

namespace Regards.Portal.Processing;

public enum ProcessingParameterType
{
    [JsonStringEnumMemberName("STRING")] String,
    [JsonStringEnumMemberName("INTEGER")] Integer,
}

/// <summary>A parameter of a processing; <see cref="AllowedValues"/> makes it a choice, Min/Max bound an integer.</summary>
public sealed record ProcessingParameter(
    string Name,
    ProcessingParameterType Type,
    string DefaultValue,
    IReadOnlyList<string>? AllowedValues = null,
    long? Min = null,
    long? Max = null);

public enum ProcessingSizeLimitType
{
    [JsonStringEnumMemberName("NO_LIMIT")] None,
    [JsonStringEnumMemberName("FILES")] Files,
    [JsonStringEnumMemberName("FEATURES")] Objects,
    [JsonStringEnumMemberName("BYTES")] Bytes,
}

/// <summary>How much one execution may take (REGARDS "size limit"): files, objects or bytes.</summary>
public sealed record ProcessingSizeLimit(ProcessingSizeLimitType Type, long Value)
{
    public static readonly ProcessingSizeLimit None = new(ProcessingSizeLimitType.None, 0);

    /// <summary>True when a selection of that size fits one execution.</summary>
    public bool Fits(long objects, long files, long bytes) => Type switch
    {
        ProcessingSizeLimitType.Files => files <= Value,
        ProcessingSizeLimitType.Objects => objects <= Value,
        ProcessingSizeLimitType.Bytes => bytes <= Value,
        _ => true,
    };
}

public enum ProcessingCardinality
{
    [JsonStringEnumMemberName("ONE_PER_INPUT_FILE")] OnePerInputFile,
    [JsonStringEnumMemberName("ONE_PER_FEATURE")] OnePerObject,
    [JsonStringEnumMemberName("ONE_PER_EXECUTION")] OnePerExecution,
}

/// <summary>
/// A processing plug-in: registered in DI as <see cref="IProcessing"/>, listed by <c>GET /api/processing</c>, run by
/// the order engine once per sub-order on that sub-order's staged input files. Implementations write their outputs
/// through <see cref="ProcessingExecution.CreateOutputAsync"/> and must honour cancellation (pause, shutdown).
/// </summary>
public interface IProcessing
{
    string BusinessId { get; }
    string Label(string twoLetterLanguage);
    string Description(string twoLetterLanguage);
    IReadOnlyList<ProcessingParameter> Parameters { get; }

    /// <summary>The file types it takes as inputs; other files of the objects are left out of the order.</summary>
    IReadOnlyList<DataType> RequiredDataTypes { get; }
    ProcessingSizeLimit SizeLimit { get; }
    ProcessingCardinality Cardinality { get; }

    /// <summary>True when all the inputs must go to one execution (the selection may not be split across sub-orders).</summary>
    bool ForbidSplitInSuborders { get; }

    Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken);
}

/// <summary>One input file of an execution, readable from the order's cache.</summary>
public sealed record ProcessingInput(long OrderFileId, string DataObjectId, string Name, long Size, DataType DataType, Func<Stream> OpenRead);

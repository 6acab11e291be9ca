namespace Regards.Portal.Processing;

/// <summary>
/// Splits the inputs of a dataset task with a processing into executions (one per sub-order): within the processing's
/// size limit and the usual sub-order limits, never cutting an object whose files go to one output, never splitting
/// at all when the processing forbids it. Pure arithmetic, unit-tested.
/// </summary>
public sealed class ProcessingSplitter(IProcessing processing, int maxFilesPerSubOrder, long maxBytesPerSubOrder)
{
    private long files;
    private long objects;
    private long bytes;

    /// <summary>True when this file must start a new sub-order; <paramref name="newObject"/> is true for the first file of an object.</summary>
    public bool NeedsNewSubOrder(long size, bool newObject)
    {
        if (files == 0)
        {
            return true;
        }
        if (processing.ForbidSplitInSuborders)
        {
            return false;
        }
        if (!newObject && processing.Cardinality == ProcessingCardinality.OnePerObject)
        {
            return false;
        }
        var limit = processing.SizeLimit;
        var overLimit = limit.Type switch
        {
            ProcessingSizeLimitType.Files => files + 1 > limit.Value,
            ProcessingSizeLimitType.Objects => newObject && objects + 1 > limit.Value,
            ProcessingSizeLimitType.Bytes => bytes + size > limit.Value,
            _ => false,
        };
        return overLimit || files + 1 > maxFilesPerSubOrder || bytes + size > maxBytesPerSubOrder;
    }

    public void Add(long size, bool newObject, bool startsNew)
    {
        if (startsNew)
        {
            files = objects = bytes = 0;
        }
        if (newObject || startsNew)
        {
            objects++;
        }
        files++;
        bytes += size;
    }
}

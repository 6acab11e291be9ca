using Microsoft.EntityFrameworkCore;
using Regards.Portal.Basket;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Storage;

namespace Regards.Portal.Processing;

/// <summary>What a processing execution gave: outputs to swap for its inputs, or the reason it failed.</summary>
public sealed record ProcessingResult(IReadOnlyList<long> InputIds, IReadOnlyList<OrderFile> Outputs, string? Failure)
{
    public static ProcessingResult Nothing { get; } = new([], [], null);

    public static ProcessingResult Failed(string message) => new([], [], message);
}

/// <summary>
/// Runs a processing on a sub-order whose inputs were staged (still PENDING), inside the engine's staging job and its
/// lease, and answers what it gave; the orders feature writes it (outputs swapped for inputs, or inputs in
/// PROCESSING_ERROR). An interruption (pause, shutdown, crash) leaves the inputs PENDING so the next claim of the
/// sub-order runs it again from the start. Partial outputs are deleted.
/// </summary>
public sealed class ProcessingRunner(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    ProcessingCatalog catalog,
    ILogger<ProcessingRunner> logger)
{
    public async Task<ProcessingResult> RunAsync(long orderId, long subOrderId, ProcessingChoice choice, CancellationToken cancellationToken)
    {
        using var activity = Operations.PortalTelemetry.StartChildActivity("processing.execution", orderId, subOrderId)?.SetTag("regards.processing", choice.ProcessBusinessId);
        List<OrderFile> inputs;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            inputs = await db.OrderFiles.AsNoTracking().Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
                .OrderBy(f => f.Id).ToListAsync(cancellationToken);
        }
        if (inputs.Count == 0)
        {
            return ProcessingResult.Nothing; // every input failed to stage: nothing to process
        }
        var plugin = catalog.Find(choice.ProcessBusinessId);
        if (plugin is null)
        {
            return ProcessingResult.Failed($"Processing '{choice.ProcessBusinessId}' is no longer available.");
        }
        IReadOnlyDictionary<string, string> parameters;
        try
        {
            parameters = ProcessingCatalog.ResolveParameters(plugin, choice.Parameters);
        }
        catch (PortalException e)
        {
            return ProcessingResult.Failed($"Processing '{plugin.BusinessId}': {e.Message}");
        }

        var execution = new ProcessingExecution(
            inputs.Select(f => new ProcessingInput(f.Id, f.DataObjectId, f.Name, f.Size, f.DataType,
                () => storage.OpenRead(orderId, new StorageFileRef(f.Tier, f.Location, f.Size, f.Checksum)))).ToList(),
            parameters,
            name => (storage.CreateOrderOutput(orderId, name, out var location), location));
        logger.LogInformation("Running processing {Processing} on {Count} file(s) of sub-order {SubOrderId}", plugin.BusinessId, inputs.Count, subOrderId);
        try
        {
            await plugin.ExecuteAsync(execution, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            DiscardOutputs(orderId, execution.Outputs.Select(o => o.Location));
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Processing {Processing} failed on sub-order {SubOrderId}", plugin.BusinessId, subOrderId);
            DiscardOutputs(orderId, execution.Outputs.Select(o => o.Location));
            return ProcessingResult.Failed($"Processing '{plugin.BusinessId}' failed: {e.Message}");
        }
        cancellationToken.ThrowIfCancellationRequested();

        var template = inputs[0];
        var outputs = execution.Outputs.Select(o => new OrderFile
        {
            PublicId = Guid.NewGuid(), OrderId = orderId, SubOrderId = subOrderId, DatasetTaskId = template.DatasetTaskId,
            DataObjectId = o.DataObjectId, ProviderId = inputs.FirstOrDefault(i => i.DataObjectId == o.DataObjectId)?.ProviderId ?? template.ProviderId,
            Name = o.Name, Size = o.Size, MimeType = o.MimeType, Checksum = o.Sha256, Md5 = o.Md5, DataType = o.DataType,
            Tier = Catalog.StorageTier.Online, Location = o.Location, State = OrderFileState.Available,
        }).ToList();
        return new ProcessingResult(inputs.Select(f => f.Id).ToList(), outputs, null);
    }

    /// <summary>Deletes outputs that will not be kept (interrupted, failed, or the order changed meanwhile).</summary>
    public void DiscardOutputs(long orderId, IEnumerable<string> locations)
    {
        foreach (var location in locations)
        {
            try
            {
                storage.DeleteOrderOutput(orderId, location);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Could not delete the partial output {Location}", location);
            }
        }
    }
}

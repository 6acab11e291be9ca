using Microsoft.EntityFrameworkCore;
using Regards.Portal.Basket;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Storage;

namespace Regards.Portal.Processing;

/// <summary>
/// Runs a processing on a sub-order whose inputs were staged (still PENDING), inside the engine's staging job and its
/// lease. Success swaps the inputs for the outputs (AVAILABLE) in one transaction; a failure turns the inputs into
/// PROCESSING_ERROR with the message; an interruption (pause, shutdown, crash) leaves the inputs PENDING so the next
/// claim of the sub-order runs it again from the start. Partial outputs are deleted.
/// </summary>
public sealed class ProcessingRunner(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    ProcessingCatalog catalog,
    ILogger<ProcessingRunner> logger)
{
    public async Task RunAsync(long orderId, long subOrderId, ProcessingChoice choice, CancellationToken cancellationToken)
    {
        List<OrderFile> inputs;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            inputs = await db.OrderFiles.AsNoTracking().Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
                .OrderBy(f => f.Id).ToListAsync(cancellationToken);
        }
        if (inputs.Count == 0)
        {
            return; // every input failed to stage: nothing to process
        }
        var plugin = catalog.Find(choice.ProcessBusinessId);
        if (plugin is null)
        {
            await FailAsync(subOrderId, $"Processing '{choice.ProcessBusinessId}' is no longer available.");
            return;
        }
        IReadOnlyDictionary<string, string> parameters;
        try
        {
            parameters = ProcessingCatalog.ResolveParameters(plugin, choice.Parameters);
        }
        catch (PortalException e)
        {
            await FailAsync(subOrderId, $"Processing '{plugin.BusinessId}': {e.Message}");
            return;
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
            DeleteOutputs(orderId, execution.Outputs);
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Processing {Processing} failed on sub-order {SubOrderId}", plugin.BusinessId, subOrderId);
            DeleteOutputs(orderId, execution.Outputs);
            await FailAsync(subOrderId, $"Processing '{plugin.BusinessId}' failed: {e.Message}");
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();

        if (!await SwapAsync(orderId, subOrderId, inputs, execution.Outputs))
        {
            DeleteOutputs(orderId, execution.Outputs);
        }
    }

    /// <summary>Replaces the inputs by the outputs, only if the inputs are still PENDING (the order may have been deleted meanwhile).</summary>
    private async Task<bool> SwapAsync(long orderId, long subOrderId, List<OrderFile> inputs, IReadOnlyList<ProcessingOutput> outputs)
    {
        var template = inputs[0];
        var ids = inputs.Select(f => f.Id).ToList();
        await using var db = await dbFactory.CreateDbContextAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var removed = 0;
        foreach (var chunk in ids.Chunk(500))
        {
            removed += await db.OrderFiles.Where(f => f.SubOrderId == subOrderId && chunk.Contains(f.Id) && f.State == OrderFileState.Pending).ExecuteDeleteAsync();
        }
        if (removed != ids.Count)
        {
            await transaction.RollbackAsync();
            logger.LogInformation("Outputs of sub-order {SubOrderId} dropped: its inputs changed during the processing", subOrderId);
            return false;
        }
        db.OrderFiles.AddRange(outputs.Select(o => new OrderFile
        {
            PublicId = Guid.NewGuid(), OrderId = orderId, SubOrderId = subOrderId, DatasetTaskId = template.DatasetTaskId,
            DataObjectId = o.DataObjectId, ProviderId = inputs.FirstOrDefault(i => i.DataObjectId == o.DataObjectId)?.ProviderId ?? template.ProviderId,
            Name = o.Name, Size = o.Size, MimeType = o.MimeType, Checksum = o.Sha256, Md5 = o.Md5, DataType = o.DataType,
            Tier = Catalog.StorageTier.Online, Location = o.Location, State = OrderFileState.Available,
        }));
        await db.SaveChangesAsync();
        var filesDelta = outputs.Count - inputs.Count;
        var bytesDelta = outputs.Sum(o => o.Size) - inputs.Sum(i => i.Size);
        await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.FilesCount, o => o.FilesCount + filesDelta)
            .SetProperty(o => o.TotalSize, o => o.TotalSize + bytesDelta)
            .SetProperty(o => o.Version, o => o.Version + 1));
        await transaction.CommitAsync();
        return true;
    }

    private async Task FailAsync(long subOrderId, string message)
    {
        message = message.Length > 500 ? message[..497] + "..." : message;
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.OrderFiles.Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.ProcessingError).SetProperty(f => f.DownloadError, message).SetProperty(f => f.Version, f => f.Version + 1));
    }

    private void DeleteOutputs(long orderId, IReadOnlyList<ProcessingOutput> outputs)
    {
        foreach (var output in outputs)
        {
            try
            {
                storage.DeleteOrderOutput(orderId, output.Location);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "Could not delete the partial output {Location}", output.Location);
            }
        }
    }
}

namespace Regards.Portal.Basket;

/// <summary>Checks a processing chosen for a dataset selection against the processing catalogue (processing feature).</summary>
public interface IProcessingChoiceValidator
{
    Task ValidateAsync(Identity.Caller caller, ProcessingChoice choice, BasketDatasetSelection selection, CancellationToken cancellationToken);
}

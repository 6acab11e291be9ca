namespace Regards.Portal.Basket;

/// <summary>Checks a processing chosen for a dataset selection against the processing catalogue (processing feature);
/// returns the choice to store, every parameter resolved (defaults applied).</summary>
public interface IProcessingChoiceValidator
{
    Task<ProcessingChoice> ValidateAsync(Identity.Caller caller, ProcessingChoice choice, BasketDatasetSelection selection, CancellationToken cancellationToken);
}

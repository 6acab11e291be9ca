namespace Regards.Portal.Basket;

/// <summary>A processing chosen for a dataset in words, in the current UI language (processing feature): its label and
/// its parameters' labels and values, never the raw <c>compress(level=optimal)</c>.</summary>
public interface IProcessingChoiceDescriber
{
    string? Describe(ProcessingChoice? choice);
}

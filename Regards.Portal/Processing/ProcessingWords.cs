using System.Globalization;
using Microsoft.Extensions.Localization;
using Regards.Portal.Basket;

namespace Regards.Portal.Processing;

/// <summary>
/// Processings in words, in the current UI language: a parameter's label ("Compression level"), a value's label
/// ("Optimal"), a chosen processing ("gzip compression (Compression level: Optimal)"). A name or value without a text
/// is shown as it is.
/// </summary>
public sealed class ProcessingWords(ProcessingCatalog catalog, IStringLocalizer<ProcessingText> L) : IProcessingChoiceDescriber
{
    public string ParameterLabel(string name) => Text("ParamName_" + name, name);

    public string ValueLabel(string value) => Text("ParamValue_" + value, value);

    public string? Describe(ProcessingChoice? choice)
    {
        if (choice is null)
        {
            return null;
        }
        var label = catalog.Find(choice.ProcessBusinessId)?.Label(CultureInfo.CurrentUICulture.TwoLetterISOLanguageName) ?? choice.ProcessBusinessId;
        return choice.Parameters.Count == 0 ? label : $"{label} ({Parameters(choice.Parameters)})";
    }

    /// <summary>"Compression level: Optimal, Unit: Bytes".</summary>
    public string Parameters(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join(", ", parameters.Select(p => string.Format(L["ParamAndValue"], ParameterLabel(p.Key), ValueLabel(p.Value))));

    private string Text(string key, string fallback)
    {
        var text = L[key];
        return text.ResourceNotFound ? fallback : text.Value;
    }
}

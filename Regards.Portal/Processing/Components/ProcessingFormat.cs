using Microsoft.Extensions.Localization;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Processing.Components;

/// <summary>A processing's size limit as the pages show it, in the user's language.</summary>
public static class ProcessingFormat
{
    public static string Limit(IStringLocalizer<ProcessingText> L, ProcessingSizeLimit limit) => limit.Type switch
    {
        ProcessingSizeLimitType.Files => L.Plural("Limit_Files", limit.Value),
        ProcessingSizeLimitType.Objects => L.Plural("Limit_Objects", limit.Value),
        ProcessingSizeLimitType.Bytes => UiFormat.Bytes(limit.Value),
        _ => L["NoLimit"],
    };
}

using System.Globalization;

namespace Regards.Portal.Infrastructure;

/// <summary>Display helpers shared by the pages.</summary>
public static class UiFormat
{
    private static readonly string[] Units = ["B", "KB", "MB", "GB", "TB", "PB"];

    /// <summary>Human size in binary units, e.g. 1.5 MB.</summary>
    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Format(CultureInfo.CurrentCulture, "{0:0.#} {1}", value, Units[unit]);
    }

    public static string Date(DateTime utc) => utc.ToLocalTime().ToString("g", CultureInfo.CurrentCulture);
}

public static class LocalizedErrors
{
    /// <summary>The message of a refusal in the page's language: the <c>Error_CODE</c> resource, else the server's text.</summary>
    public static string ErrorText(this Microsoft.Extensions.Localization.IStringLocalizer localizer, PortalException error)
    {
        var text = localizer["Error_" + error.Code];
        return text.ResourceNotFound ? error.Message : text.Value;
    }
}

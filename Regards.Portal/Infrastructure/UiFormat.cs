using System.Globalization;
using System.Resources;

namespace Regards.Portal.Infrastructure;

/// <summary>Display helpers shared by the pages, in the current culture (pushed renders included: see KeyedNotifier).</summary>
public static class UiFormat
{
    private static readonly string[] Units = ["Unit_B", "Unit_KB", "Unit_MB", "Unit_GB", "Unit_TB", "Unit_PB"];
    private static readonly ResourceManager Texts = new(typeof(PortalText).FullName!, typeof(PortalText).Assembly);

    /// <summary>Human size in binary units with the language's unit names: 1.5 MB in English, 1,5 Mo in French.</summary>
    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        var name = Texts.GetString(Units[unit], CultureInfo.CurrentUICulture) ?? Units[unit];
        return unit == 0
            ? string.Format(CultureInfo.CurrentCulture, "{0:N0}\u00a0{1}", bytes, name)
            : string.Format(CultureInfo.CurrentCulture, "{0:0.#}\u00a0{1}", value, name);
    }

    /// <summary>The name of the unit of 1024^<paramref name="power"/> bytes in the current language (2: MB, Mo).</summary>
    public static string UnitName(int power) => Texts.GetString(Units[power], CultureInfo.CurrentUICulture) ?? Units[power];

    /// <summary>Date and short time in the user's culture (12/1/2026 6:06 AM in English, 01/12/2026 06:06 in French).</summary>
    public static string Date(DateTime utc) => utc.ToLocalTime().ToString("g", CultureInfo.CurrentCulture);

    /// <summary>A date without time, in the user's culture.</summary>
    public static string Day(DateTime utc) => utc.ToLocalTime().ToString("d", CultureInfo.CurrentCulture);

    /// <summary>
    /// A calendar day (a date filter's bound, not an instant) in the user's short date format: 1/2/2026, 02/01/2026.
    /// Not converted to local time: the end of a day in UTC would read as the next day east of Greenwich.
    /// </summary>
    public static string CalendarDay(DateTime day) => day.ToString("d", CultureInfo.CurrentCulture);
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

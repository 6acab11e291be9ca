using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Regards.Portal.Infrastructure;

/// <summary>
/// Plural forms by the CLDR cardinal rules of the two languages of the portal: English says "1 order", "0 orders";
/// French says "0 commande", "1 commande", "2 commandes" (one for 0 and 1). A plural text is two resources,
/// <c>Key_one</c> and <c>Key_other</c>, chosen by the count.
/// </summary>
public static class PluralText
{
    public const string One = "one";
    public const string Other = "other";

    /// <summary>The CLDR cardinal category of a whole number in a culture (the portal's languages: en, fr).</summary>
    public static string Category(long count, CultureInfo culture) =>
        culture.TwoLetterISOLanguageName switch
        {
            "fr" => count is 0 or 1 ? One : Other,
            _ => count == 1 ? One : Other,
        };

    /// <summary>The <c>Key_one</c> / <c>Key_other</c> text for <paramref name="count"/> in the current UI culture,
    /// formatted with the count as {0} (in the current culture's digits) and <paramref name="more"/> after it.</summary>
    public static string Plural(this IStringLocalizer localizer, string key, long count, params object[] more)
    {
        var text = localizer[key + "_" + Category(count, CultureInfo.CurrentUICulture)];
        var format = text.ResourceNotFound ? localizer[key + "_" + Other].Value : text.Value;
        return string.Format(CultureInfo.CurrentCulture, format, [Number(count), .. more]);
    }

    /// <summary>A whole number with the culture's group separator (1,234 / 1 234).</summary>
    public static string Number(long value) => value.ToString("N0", CultureInfo.CurrentCulture);
}

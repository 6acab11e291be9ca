using System.Globalization;
using Microsoft.Extensions.Localization;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders.Components;

/// <summary>
/// An <see cref="OrderSituation"/> in the current UI culture's words: translation only (plural rules by
/// <see cref="PluralText"/>, sizes by <see cref="UiFormat"/>); what the situation is was decided by the Orders feature.
/// </summary>
public static class SituationWords
{
    public static string Describe(this IStringLocalizer<OrderSituationText> L, OrderSituation s)
    {
        var text = s.Kind switch
        {
            OrderSituationKind.Completing => L["Completing"].Value,
            OrderSituationKind.Staging => L.Plural(s.FromTape ? "StagingTape" : "Staging", s.Parts.Count, List(L, s.Parts.Select(p => PluralText.Number(p))), PluralText.Number(s.PartsCount)),
            OrderSituationKind.WaitingForUser => L.Plural(s.BlocksNext ? "WaitingContinue" : "Waiting", s.Parts.Count, List(L, s.Parts.Select(p => PluralText.Number(p))),
                L.Plural("Files", s.Files), UiFormat.Bytes(s.Bytes)),
            OrderSituationKind.QueuedBehindOtherOrders => L.Plural("Queued", s.Slots,
                L.Plural("HeldBy", s.HeldBy.Count, List(L, s.HeldBy.Select(label => string.Format(CultureInfo.CurrentCulture, L["Quoted"], label))))),
            OrderSituationKind.QueuedStartsShortly => L["QueuedShortly"].Value,
            OrderSituationKind.Paused => s.NextPart is { } next
                ? string.Format(CultureInfo.CurrentCulture, L["PausedBefore"], PluralText.Number(next), PluralText.Number(s.PartsCount))
                : L["Paused"].Value,
            OrderSituationKind.Finishing => L["Finishing"].Value,
            OrderSituationKind.Ready => string.Format(CultureInfo.CurrentCulture, L["Ready"], L.Plural("Files", s.Files), UiFormat.Bytes(s.Bytes)),
            OrderSituationKind.AllDownloaded => L["AllDownloaded"].Value,
            OrderSituationKind.Failed => L["Failed"].Value,
            OrderSituationKind.Expired => L["Expired"].Value,
            OrderSituationKind.Cancelled => L["Cancelled"].Value,
            OrderSituationKind.Broken => L["Broken"].Value,
            _ => s.Kind.ToString(),
        };
        // Files in error matter while the user can still act on the rest (retry, download).
        if (s.FilesInError > 0 && s.Kind is OrderSituationKind.Ready or OrderSituationKind.AllDownloaded or OrderSituationKind.WaitingForUser or OrderSituationKind.Staging)
        {
            text += " · " + L.Plural("InError", s.FilesInError);
        }
        return text;
    }

    /// <summary>"Expires today at 14:00", "Expires tomorrow", "Expires in 3 days"; null beyond a week or when it does not expire.</summary>
    public static string? Expiry(this IStringLocalizer<OrderSituationText> L, OrderSituation s) => s.ExpiresInDays switch
    {
        null => null,
        0 => string.Format(CultureInfo.CurrentCulture, L["ExpiresToday"], s.LocalExpiration!.Value.ToString("t", CultureInfo.CurrentCulture)),
        1 => L["ExpiresTomorrow"].Value,
        var days => L.Plural("ExpiresInDays", days.Value),
    };

    /// <summary>The zip button's words: how many files, of how many objects, and their size.</summary>
    public static string Zip(this IStringLocalizer<OrderSituationText> L, OrderSituation s) => s.Zip.Files == 0
        ? L["ZipEmpty"].Value
        : s.Zip.Objects < 0
            ? string.Format(CultureInfo.CurrentCulture, L["ZipFilesOnly"], L.Plural("Files", s.Zip.Files))
            : string.Format(CultureInfo.CurrentCulture, L["Zip"], L.Plural("Files", s.Zip.Files), L.Plural("Objects", s.Zip.Objects), UiFormat.Bytes(s.Zip.Bytes));

    /// <summary>"2", "2 and 3", "2, 3 and 4" (", " then the language's "and").</summary>
    private static string List(IStringLocalizer L, IEnumerable<string> items)
    {
        var all = items.ToList();
        return all.Count <= 1 ? string.Concat(all) : string.Format(CultureInfo.CurrentCulture, L["ListPair"], string.Join(", ", all[..^1]), all[^1]);
    }
}

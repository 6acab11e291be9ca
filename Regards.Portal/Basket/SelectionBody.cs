using System.Globalization;
using System.Text.Json;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Basket;

/// <summary>
/// REGARDS' <c>BasketSelectionRequest</c>, as REGARDS echoes it in <c>itemsSelections[].selectionRequest</c>. The
/// portal's text search and dates travel in <c>searchParameters</c> (<c>q</c>, and the portal's <c>from</c>, <c>to</c>).
/// </summary>
public sealed record RegardsSelectionRequest(
    string EngineType, string? DatasetUrn, IReadOnlyDictionary<string, string[]> SearchParameters,
    IReadOnlyList<string>? EntityIdsToExclude, IReadOnlyList<string>? EntityIdsToInclude, DateTime SelectionDate)
{
    public const string LegacyEngine = "legacy";

    public static RegardsSelectionRequest From(SelectionRequest request, DateTime date)
    {
        var parameters = new Dictionary<string, string[]>();
        if (request.Q is { } q) parameters["q"] = [q];
        if (request.From is { } from) parameters["from"] = [SelectionBody.Iso(from)];
        if (request.To is { } to) parameters["to"] = [SelectionBody.Iso(to)];
        return new(LegacyEngine, request.DatasetId, parameters, request.ExcludeIds, request.IncludeIds, date);
    }
}

/// <summary>
/// Reads the body of <c>POST /order/basket/selection</c> in either form: REGARDS'
/// <c>{engineType, datasetUrn, entityIdsToInclude, entityIdsToExclude, searchParameters}</c> or the portal's
/// <c>{datasetId, q, from, to, includeIds, excludeIds}</c>. Strict on purpose: an unknown field, a search parameter
/// the portal cannot apply, or a selection that names nothing is refused, because ignoring any of them would widen
/// the selection (an ignored filter once put the whole catalog in a cart).
/// </summary>
public static class SelectionBody
{
    /// <summary>More ids than this would exceed what one SQL statement may bind; lists that long go through the upload.</summary>
    public const int MaxIds = 10_000;

    /// <summary>A longer search text is no search a person typed; it only makes the LIKE pattern expensive.</summary>
    public const int MaxSearchLength = 1_000;

    private static readonly string[] RegardsFields = ["engineType", "datasetUrn", "searchParameters", "entityIdsToInclude", "entityIdsToExclude", "selectionDate"];
    private static readonly string[] PortalFields = ["datasetId", "q", "from", "to", "includeIds", "excludeIds"];
    private static readonly string[] SearchParameters = ["q", "from", "to"];

    public static SelectionRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Bad("BAD_SELECTION", "The selection must be a JSON object.");
        }
        var names = body.EnumerateObject().Select(p => p.Name).ToList();
        if (names.FirstOrDefault(n => !RegardsFields.Contains(n) && !PortalFields.Contains(n)) is { } unknown)
        {
            throw Bad("UNKNOWN_FIELD", $"Unknown field '{unknown}'. A selection is REGARDS' {{engineType, datasetUrn, entityIdsToInclude, entityIdsToExclude, searchParameters}} or {{datasetId, q, from, to, includeIds, excludeIds}}.");
        }
        var isRegards = names.Any(RegardsFields.Contains);
        if (isRegards && names.Any(PortalFields.Contains))
        {
            throw Bad("MIXED_SELECTION", "Use either REGARDS' fields (engineType, datasetUrn, ...) or the portal's (datasetId, q, ...), not both.");
        }
        var request = isRegards ? ParseRegards(body) : ParsePortal(body);
        if (request.DatasetId is null && request.Q is null && request.From is null && request.To is null && request.IncludeIds is null)
        {
            throw Bad("EMPTY_SELECTION", "The selection names no dataset, no search and no object. Say what to add: a dataset, a search, or the ids of objects.");
        }
        return request; // from after to is the cart's own rule (BasketService)
    }

    private static SelectionRequest ParseRegards(JsonElement body)
    {
        var engine = String(body, "engineType");
        if (string.IsNullOrWhiteSpace(engine))
        {
            // REGARDS' own message for this refusal (its bean validation), which its clients show.
            throw PortalException.BadRequest("ENGINE_TYPE_REQUIRED", "Engine type may not be empty.", "Engine type may not be empty");
        }
        if (!engine.Equals(RegardsSelectionRequest.LegacyEngine, StringComparison.OrdinalIgnoreCase))
        {
            throw Bad("UNKNOWN_ENGINE_TYPE", $"Unknown engine type '{engine}': the portal's catalog answers the '{RegardsSelectionRequest.LegacyEngine}' engine only.");
        }
        string? q = null, from = null, to = null;
        if (body.TryGetProperty("searchParameters", out var search) && search.ValueKind != JsonValueKind.Null)
        {
            if (search.ValueKind != JsonValueKind.Object)
            {
                throw Bad("BAD_SELECTION", "'searchParameters' must be an object of arrays of strings, e.g. {\"q\": [\"SWOT\"]}.");
            }
            foreach (var parameter in search.EnumerateObject())
            {
                var values = Strings(parameter.Value, $"searchParameters.{parameter.Name}")?.Where(v => !string.IsNullOrWhiteSpace(v)).ToList() ?? [];
                if (values.Count == 0)
                {
                    continue; // REGARDS' client sends q: [""] and nulls for the parameters it does not use
                }
                if (!SearchParameters.Contains(parameter.Name))
                {
                    throw Bad("UNSUPPORTED_SEARCH_PARAMETER", $"The search parameter '{parameter.Name}' is not supported here: only q (text), from and to (ISO dates).");
                }
                if (values.Count > 1)
                {
                    throw Bad("BAD_SELECTION", $"'searchParameters.{parameter.Name}' takes one value.");
                }
                switch (parameter.Name)
                {
                    case "q": q = values[0]; break;
                    case "from": from = values[0]; break;
                    default: to = values[0]; break;
                }
            }
        }
        var datasetUrn = String(body, "datasetUrn");
        // REGARDS' client may send the URN URL-encoded (URN%3AAIP%3A...).
        if (datasetUrn is not null && datasetUrn.Contains('%'))
        {
            datasetUrn = Uri.UnescapeDataString(datasetUrn);
        }
        return Build(datasetUrn, q, Date(from, "searchParameters.from"), Date(to, "searchParameters.to"),
            Strings(Property(body, "entityIdsToInclude"), "entityIdsToInclude"), Strings(Property(body, "entityIdsToExclude"), "entityIdsToExclude"));
    }

    private static SelectionRequest ParsePortal(JsonElement body) =>
        Build(String(body, "datasetId"), String(body, "q"), Date(String(body, "from"), "from"), Date(String(body, "to"), "to"),
            Strings(Property(body, "includeIds"), "includeIds"), Strings(Property(body, "excludeIds"), "excludeIds"));

    private static SelectionRequest Build(string? datasetId, string? q, DateTime? from, DateTime? to, IReadOnlyList<string>? include, IReadOnlyList<string>? exclude)
    {
        if (q is { Length: > MaxSearchLength })
        {
            throw Bad("SEARCH_TOO_LONG", $"The search text is at most {MaxSearchLength} characters.");
        }
        foreach (var (ids, name) in new[] { (include, "ids to include"), (exclude, "ids to exclude") })
        {
            if (ids is { Count: > MaxIds })
            {
                throw Bad("TOO_MANY_IDS", $"At most {MaxIds:N0} {name} in one request; send longer lists of provider ids as a file (selection/upload).");
            }
        }
        return new SelectionRequest
        {
            DatasetId = string.IsNullOrWhiteSpace(datasetId) ? null : datasetId.Trim(),
            Q = string.IsNullOrWhiteSpace(q) ? null : q.Trim(),
            From = from,
            To = to,
            IncludeIds = include is { Count: > 0 } ? include.Distinct().ToList() : null,
            ExcludeIds = exclude is { Count: > 0 } ? exclude.Distinct().ToList() : null,
        };
    }

    private static JsonElement? Property(JsonElement body, string name) => body.TryGetProperty(name, out var value) ? value : null;

    private static string? String(JsonElement body, string name) => Property(body, name) switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw Bad("BAD_SELECTION", $"'{name}' must be a string."),
    };

    private static List<string>? Strings(JsonElement? value, string name)
    {
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.Array || value.Value.EnumerateArray().Any(v => v.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)))
        {
            throw Bad("BAD_SELECTION", $"'{name}' must be an array of strings.");
        }
        return value.Value.EnumerateArray().Select(v => v.GetString()).OfType<string>().ToList();
    }

    private static DateTime? Date(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        return DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date)
            ? date
            : throw Bad("BAD_DATE", $"'{name}' must be an ISO-8601 date.");
    }

    internal static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static PortalException Bad(string code, string message) => PortalException.BadRequest(code, message);
}

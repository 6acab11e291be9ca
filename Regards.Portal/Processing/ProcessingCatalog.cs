using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Processing;

/// <summary>An administrator's settings of one processing; a processing without a row is enabled for every user.</summary>
public class ProcessingSettings : IVersioned
{
    public required string BusinessId { get; set; }
    public bool Enabled { get; set; } = true;

    /// <summary>The lowest role that may use it: REGISTERED_USER (everyone), ADMIN or PROJECT_ADMIN.</summary>
    public string MinimumRole { get; set; } = PortalRoles.RegisteredUser;
    public long Version { get; set; }
}

public sealed record ProcessingDto(
    string ProcessBusinessId, string Label, string Description, IReadOnlyList<ProcessingParameter> Parameters,
    IReadOnlyList<DataType> RequiredDataTypes, ProcessingSizeLimit SizeLimit, ProcessingCardinality Cardinality, bool ForbidSplitInSuborders);

public sealed record ProcessingAdminDto(ProcessingDto Processing, bool Enabled, string MinimumRole);

public sealed record ProcessingSettingsRequest(bool Enabled, string? MinimumRole);

public enum ParameterIssueKind
{
    NotAllowed,
    NotInteger,
    OutOfRange,
    TooLong,
}

/// <summary>A refused parameter value; <see cref="Detail"/> is the allowed values, the range or the maximum length.</summary>
public sealed record ParameterIssue(ParameterIssueKind Kind, string Name, string Detail)
{
    public string Message => Kind switch
    {
        ParameterIssueKind.NotAllowed => $"'{Name}' must be one of {Detail}.",
        ParameterIssueKind.NotInteger => $"'{Name}' must be an integer.",
        ParameterIssueKind.OutOfRange => $"'{Name}' must be between {Detail}.",
        _ => $"'{Name}' is too long ({Detail} characters at most).",
    };
}

/// <summary>Which dataset used which processing with which parameters, over every order (admin processing list).</summary>
public sealed record ProcessingUsageDto(string ProcessBusinessId, string DatasetId, string DatasetLabel, IReadOnlyDictionary<string, string> Parameters, int OrdersCount, DateTime LastOrderDate);

/// <summary>
/// The processing catalogue: the plug-ins registered in DI, with the administrator's settings (enabled, minimum role).
/// Also checks a user's choice in the cart: known, allowed, parameters valid, selection within the size limit.
/// </summary>
public sealed class ProcessingCatalog(IEnumerable<IProcessing> plugins, IDbContextFactory<PortalDbContext> dbFactory) : IProcessingChoiceValidator
{
    private readonly Dictionary<string, IProcessing> byId = plugins.ToDictionary(p => p.BusinessId, StringComparer.Ordinal);

    public IProcessing? Find(string businessId) => byId.GetValueOrDefault(businessId);

    /// <summary>
    /// The processing if it is registered and this caller may use it now (enabled, role high enough): checked when the
    /// cart is edited, and again when an order is completed or restarted, since an admin may have changed it meanwhile.
    /// </summary>
    public async Task<IProcessing?> FindAllowedAsync(Caller caller, string businessId, CancellationToken cancellationToken = default)
    {
        var plugin = Find(businessId);
        return plugin is not null && Allowed(caller, (await SettingsAsync(cancellationToken)).GetValueOrDefault(businessId)) ? plugin : null;
    }

    /// <summary>The processings this caller may choose, in the current UI language.</summary>
    public async Task<IReadOnlyList<ProcessingDto>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        var settings = await SettingsAsync(cancellationToken);
        return byId.Values.Where(p => Allowed(caller, settings.GetValueOrDefault(p.BusinessId))).OrderBy(p => p.BusinessId, StringComparer.Ordinal).Select(ToDto).ToList();
    }

    public async Task<IReadOnlyList<ProcessingAdminDto>> ListForAdminAsync(CancellationToken cancellationToken = default)
    {
        var settings = await SettingsAsync(cancellationToken);
        return byId.Values.OrderBy(p => p.BusinessId, StringComparer.Ordinal).Select(p =>
        {
            var s = settings.GetValueOrDefault(p.BusinessId);
            return new ProcessingAdminDto(ToDto(p), s?.Enabled ?? true, s?.MinimumRole ?? PortalRoles.RegisteredUser);
        }).ToList();
    }

    public async Task<ProcessingAdminDto> UpdateSettingsAsync(string businessId, ProcessingSettingsRequest request, CancellationToken cancellationToken = default)
    {
        var plugin = Find(businessId) ?? throw PortalException.NotFound("Processing");
        var role = request.MinimumRole ?? PortalRoles.RegisteredUser;
        if (!PortalRoles.All.Contains(role))
        {
            throw PortalException.BadRequest("BAD_ROLE", $"The role must be one of {string.Join(", ", PortalRoles.All)}.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var row = await db.ProcessingSettings.FirstOrDefaultAsync(s => s.BusinessId == businessId, cancellationToken);
        if (row is null)
        {
            row = new ProcessingSettings { BusinessId = businessId };
            db.ProcessingSettings.Add(row);
        }
        row.Enabled = request.Enabled;
        row.MinimumRole = role;
        await db.SaveChangesAsync(cancellationToken);
        return new ProcessingAdminDto(ToDto(plugin), row.Enabled, row.MinimumRole);
    }

    /// <summary>Dataset tasks with a processing, grouped by processing, dataset and parameters.</summary>
    public async Task<IReadOnlyList<ProcessingUsageDto>> UsageAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tasks = await db.DatasetTasks.AsNoTracking().Where(t => t.Processing != null)
            .Select(t => new { t.DatasetId, t.DatasetLabel, t.Processing, t.Order!.CreationDate }).ToListAsync(cancellationToken);
        return tasks
            .GroupBy(t => (t.Processing!.ProcessBusinessId, t.DatasetId, Parameters: string.Join("\n", t.Processing.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))))
            .Select(g => new ProcessingUsageDto(g.Key.ProcessBusinessId, g.Key.DatasetId, g.First().DatasetLabel, g.First().Processing!.Parameters, g.Count(), g.Max(t => t.CreationDate)))
            .OrderBy(u => u.ProcessBusinessId, StringComparer.Ordinal).ThenBy(u => u.DatasetLabel, StringComparer.Ordinal).ToList();
    }

    /// <summary>Checks a cart choice; throws the API's errors (404 unknown or not allowed, 400 bad parameters, 409 too big).</summary>
    public async Task<ProcessingChoice> ValidateAsync(Caller caller, ProcessingChoice choice, BasketDatasetSelection selection, CancellationToken cancellationToken)
    {
        var plugin = Find(choice.ProcessBusinessId);
        var settings = plugin is null ? null : (await SettingsAsync(cancellationToken)).GetValueOrDefault(plugin.BusinessId);
        if (plugin is null || !Allowed(caller, settings))
        {
            // Not allowed looks like unknown: a user does not learn which processings others may use.
            throw new PortalException(StatusCodes.Status404NotFound, "UNKNOWN_PROCESSING", $"Processing '{choice.ProcessBusinessId}' does not exist.");
        }
        var parameters = ResolveParameters(plugin, choice.Parameters);
        if (TooBigForOneExecution(plugin, selection.ObjectsCount, selection.FilesCount, selection.FilesSize) is { } refusal)
        {
            throw PortalException.Conflict("PROCESSING_LIMIT_EXCEEDED", refusal);
        }
        return new ProcessingChoice { ProcessBusinessId = plugin.BusinessId, Parameters = parameters };
    }

    /// <summary>Every declared parameter with its value or default; unknown names, wrong types and values out of range are refused.</summary>
    public static IReadOnlyDictionary<string, string> ResolveParameters(IProcessing plugin, IReadOnlyDictionary<string, string>? given)
    {
        given ??= new Dictionary<string, string>();
        var unknown = given.Keys.Where(k => plugin.Parameters.All(p => p.Name != k)).ToList();
        if (unknown.Count > 0)
        {
            throw PortalException.BadRequest("BAD_PROCESSING_PARAMETER", $"Unknown parameter(s) for '{plugin.BusinessId}': {string.Join(", ", unknown)}.");
        }
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in plugin.Parameters)
        {
            var value = given.TryGetValue(parameter.Name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : parameter.DefaultValue;
            if (CheckParameter(parameter, value) is { } issue)
            {
                throw PortalException.BadRequest("BAD_PROCESSING_PARAMETER", issue.Message);
            }
            resolved[parameter.Name] = value;
        }
        return resolved;
    }

    /// <summary>Why a value is not valid for a parameter, or null (also the Process dialog's inline validation).</summary>
    public static ParameterIssue? CheckParameter(ProcessingParameter parameter, string value)
    {
        if (parameter.AllowedValues is { Count: > 0 } allowed && !allowed.Contains(value, StringComparer.Ordinal))
        {
            return new ParameterIssue(ParameterIssueKind.NotAllowed, parameter.Name, string.Join(", ", allowed));
        }
        if (parameter.Type == ProcessingParameterType.Integer)
        {
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
            {
                return new ParameterIssue(ParameterIssueKind.NotInteger, parameter.Name, "");
            }
            if (number < parameter.Min || number > parameter.Max)
            {
                return new ParameterIssue(ParameterIssueKind.OutOfRange, parameter.Name,
                    $"{parameter.Min?.ToString(CultureInfo.InvariantCulture) ?? "-∞"} – {parameter.Max?.ToString(CultureInfo.InvariantCulture) ?? "+∞"}");
            }
        }
        return value.Length > MaxParameterLength ? new ParameterIssue(ParameterIssueKind.TooLong, parameter.Name, MaxParameterLength.ToString(CultureInfo.InvariantCulture)) : null;
    }

    private const int MaxParameterLength = 200;

    /// <summary>Why a selection cannot go to a processing that may not be split (checked in the cart and again at completion), or null.</summary>
    public static string? TooBigForOneExecution(IProcessing plugin, long objects, long files, long bytes) =>
        plugin.ForbidSplitInSuborders && !plugin.SizeLimit.Fits(objects, files, bytes)
            ? $"the processing '{plugin.BusinessId}' takes at most {LimitText(plugin.SizeLimit)} in one execution and cannot be split; the selection has {objects} objects, {files} files, {bytes} bytes."
            : null;

    private static string LimitText(ProcessingSizeLimit limit) => limit.Type switch
    {
        ProcessingSizeLimitType.Files => $"{limit.Value} files",
        ProcessingSizeLimitType.Objects => $"{limit.Value} objects",
        ProcessingSizeLimitType.Bytes => $"{limit.Value} bytes",
        _ => "no limit",
    };

    private static bool Allowed(Caller caller, ProcessingSettings? settings) =>
        settings is null || (settings.Enabled && Rank(caller) >= RoleRank(settings.MinimumRole));

    private static int Rank(Caller caller) => caller.IsProjectAdmin ? 2 : caller.IsAdmin ? 1 : 0;

    private static int RoleRank(string role) => role switch
    {
        PortalRoles.ProjectAdmin => 2,
        PortalRoles.Admin => 1,
        _ => 0,
    };

    private async Task<Dictionary<string, ProcessingSettings>> SettingsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ProcessingSettings.AsNoTracking().ToDictionaryAsync(s => s.BusinessId, StringComparer.Ordinal, cancellationToken);
    }

    private static ProcessingDto ToDto(IProcessing p)
    {
        var lang = CultureInfo.CurrentUICulture.TwoLetterISOLanguageName;
        return new ProcessingDto(p.BusinessId, p.Label(lang), p.Description(lang), p.Parameters, p.RequiredDataTypes, p.SizeLimit, p.Cardinality, p.ForbidSplitInSuborders);
    }
}

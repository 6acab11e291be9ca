namespace Regards.Portal.Infrastructure;

/// <summary>Where a "come back to" parameter may send the browser: only a path of this site.</summary>
public static class LocalUrl
{
    /// <summary>
    /// A path of this site: relative, not <c>//host</c> nor <c>/\host</c> (browsers read both as another host), no
    /// backslash, no control character. Anything else would be an open redirect, or an exception from the
    /// framework's own redirect helpers (which answered 500).
    /// </summary>
    public static bool IsLocal(string? url) =>
        url is not null && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\') && !url.Any(char.IsControl)
        && Uri.TryCreate(url, UriKind.Relative, out _);

    /// <summary>The url if it is a local path starting with "/", else the home page.</summary>
    public static string RootedOrHome(string? url) => url is { Length: > 0 } && url[0] == '/' && IsLocal(url) ? url : "/";
}

namespace Regards.Portal.Infrastructure;

/// <summary>
/// "Contains, ignoring the case of ASCII letters", the same on every provider: the column's <c>upper()</c> against a
/// pattern whose ASCII letters are upper-cased here, <c>EF.Functions.Like(column.ToUpper(), pattern, TextSearch.Escape)</c>.
/// A bare LIKE would differ: SQLite's ignores ASCII case, PostgreSQL's does not, SQL Server's follows its collation.
/// Letters beyond ASCII match as typed on every provider (SQLite's <c>upper()</c> and PostgreSQL's under the portal's
/// "C" collation fold ASCII only; the pattern's are left as they are to match).
/// </summary>
public static class TextSearch
{
    public const string Escape = "\\";

    /// <summary>The LIKE pattern of "contains <paramref name="text"/>" (trimmed), its wildcards escaped.</summary>
    public static string ContainsPattern(string text) =>
        "%" + AsciiUpper(text.Trim()).Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    private static string AsciiUpper(string text) => string.Create(text.Length, text, (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = char.IsAsciiLetterLower(source[i]) ? (char)(source[i] - 32) : source[i];
        }
    });
}

using Microsoft.AspNetCore.Components.Server.ProtectedBrowserStorage;

namespace Regards.Portal.Orders.Components;

/// <summary>Remembers a user's chosen columns in their browser (protected local storage, keyed by page and user).</summary>
public static class ColumnMemory
{
    public static async Task<HashSet<string>> LoadAsync(ProtectedLocalStorage storage, string page, string user, IEnumerable<string> defaults, IReadOnlyCollection<string> all)
    {
        try
        {
            var stored = await storage.GetAsync<string[]>($"columns:{page}:{user}");
            if (stored is { Success: true, Value: { } value })
            {
                return value.Where(all.Contains).ToHashSet();
            }
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Written with another key ring: fall back to the defaults.
        }
        return defaults.ToHashSet();
    }

    public static ValueTask SaveAsync(ProtectedLocalStorage storage, string page, string user, IEnumerable<string> visible) =>
        storage.SetAsync($"columns:{page}:{user}", visible.ToArray());
}

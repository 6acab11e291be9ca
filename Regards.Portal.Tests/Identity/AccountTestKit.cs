using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Notifications;

namespace Regards.Portal.Tests.Identity;

/// <summary>An answer of <c>POST /api/identity/login</c> as an outsider sees it (the trace id aside).</summary>
internal sealed record LoginAnswer(HttpStatusCode Status, string? Code, string? Title, string? Detail, string? RetryAfter)
{
    public override string ToString() => $"{(int)Status} {Code} \"{Detail}\"";
}

/// <summary>Clients from chosen loopback addresses, the account forms, the sign-in API and the account mails.</summary>
internal static partial class AccountTestKit
{
    public const string NewPassword = "Fresh!Password42";

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex(@"http://localhost:5080(/Account/(?:ConfirmEmail|ResetPassword)\?[^\s<""]+)")]
    private static partial Regex AccountLink();

    /// <summary>
    /// A client of the app on real Kestrel whose connections come from <paramref name="localAddress"/> (any 127.x.y.z
    /// address is the loopback on Linux): the portal sees as many clients as the test chooses. Cookies kept, redirects not followed.
    /// </summary>
    public static HttpClient ClientFrom(this PortalAppFactory factory, string localAddress, string? culture = null)
    {
        var baseAddress = factory.StartKestrel();
        var cookies = new CookieContainer();
        if (culture is not null)
        {
            cookies.Add(baseAddress, new Cookie(".AspNetCore.Culture", Uri.EscapeDataString($"c={culture}|uic={culture}")));
        }
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = cookies,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    public static async Task<LoginAnswer> LoginAsync(this HttpClient client, string email, string password)
    {
        using var response = await client.PostAsJsonAsync("/api/identity/login", new { email, password });
        var retryAfter = response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null;
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
            Assert.False(string.IsNullOrEmpty(token));
            return new LoginAnswer(response.StatusCode, null, null, null, retryAfter);
        }
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new LoginAnswer(response.StatusCode, Text(problem, "code"), Text(problem, "title"), Text(problem, "detail"), retryAfter);
    }

    private static string? Text(JsonElement problem, string name) => problem.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>Fills a static SSR form as a browser does: the page's antiforgery token, the form's handler name, the fields.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, string url, string formName, Dictionary<string, string> fields)
    {
        var page = await client.GetStringAsync(url);
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), $"No antiforgery token on {url}");
        var form = new Dictionary<string, string>(fields) { ["_handler"] = formName, ["__RequestVerificationToken"] = token };
        return await client.PostAsync(url, new FormUrlEncodedContent(form));
    }

    public static Task<HttpResponseMessage> RegisterAsync(this HttpClient client, string email, string password) =>
        client.SubmitAsync("/Account/Register", "register", new()
        {
            ["Input.Email"] = email, ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        });

    public static Task<HttpResponseMessage> SignInPageAsync(this HttpClient client, string email, string password) =>
        client.SubmitAsync("/Account/Login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    public static Task<HttpResponseMessage> ForgotPasswordAsync(this HttpClient client, string email) =>
        client.SubmitAsync("/Account/ForgotPassword", "forgot-password", new() { ["Input.Email"] = email });

    /// <summary>A page's HTML with its character references decoded (Blazor writes "é" as "&amp;#xE9;").</summary>
    public static async Task<string> PageTextAsync(this HttpClient client, string url) => WebUtility.HtmlDecode(await client.GetStringAsync(url));

    /// <summary>The text of the element with this test id in a page, decoded; null when the page has none.</summary>
    public static string? TestIdText(string html, string testId)
    {
        var match = Regex.Match(html, $"data-testid=\"{Regex.Escape(testId)}\"[^>]*>([^<]*)<");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value).Trim() : null;
    }

    /// <summary>The mails delivered to this address so far, once the outbox has sent everything queued.</summary>
    public static async Task<IReadOnlyList<MimeMessage>> MailsToAsync(this PortalAppFactory factory, string email)
    {
        await factory.OutboxDrainedAsync();
        return (await factory.PickedUpAsync())
            .Where(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, email, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(m => m.Date)
            .ToList();
    }

    /// <summary>The path and query of the account link (confirmation or reset) in a mail.</summary>
    public static string LinkIn(MimeMessage message)
    {
        var match = AccountLink().Match(message.TextBody ?? "");
        Assert.True(match.Success, $"No account link in \"{message.Subject}\": {message.TextBody}");
        return match.Groups[1].Value;
    }

    /// <summary>Opens a confirmation link and presses its button, as its owner does.</summary>
    public static async Task<string> ConfirmAsync(this HttpClient client, string link)
    {
        using var response = await client.SubmitAsync(link, "confirm-email", new());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A confirmed account with the role of registered users (as an administrator or the seeder makes them).</summary>
    public static async Task<ApplicationUser> CreateUserAsync(this PortalAppFactory factory, string email, string password, bool confirmed = true)
    {
        using var scope = factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser { UserName = email, Email = email, EmailConfirmed = confirmed };
        var created = await users.CreateAsync(user, password);
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        Assert.True((await users.AddToRoleAsync(user, PortalRoles.RegisteredUser)).Succeeded);
        return user;
    }
}

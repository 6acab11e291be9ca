using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Identity;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Operations;

/// <summary>Every log line of the app, at Debug and above: message, exception, structured values and scopes.</summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            var scope = new List<string>();
            owner.scopes.ForEachScope((s, list) => list.Add(s is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : s?.ToString() ?? ""), scope);
            owner.Lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {values} | {string.Join(" / ", scope)} | {exception}");
        }
    }
}

/// <summary>The app on Kestrel with every log line captured at Debug, and a fast engine.</summary>
public sealed class LoggedFactory : PortalAppFactory
{
    public CapturedLogs Logs { get; } = new();

    public LoggedFactory()
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        ConfigureTestServices = services =>
        {
            services.AddSingleton<ILoggerProvider>(Logs);
            services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(typeof(CapturedLogs).FullName, null, LogLevel.Debug, null)));
        };
        StartKestrel();
    }
}

/// <summary>What the logs say (order actions with their actor, JSON on demand) and what they never say (secrets).</summary>
public sealed class LogTests(LoggedFactory factory) : IClassFixture<LoggedFactory>
{
    [Fact]
    public async Task A_whole_journey_logs_each_order_action_with_its_actor_and_no_password_token_or_mail_body()
    {
        const string email = "journey@regards.local";
        const string password = "Journey!Password1";
        var secrets = new List<(string What, string Value)> { ("password", password), ("new password", AccountTestKit.NewPassword) };

        // Register, confirm, sign in.
        using var browser = factory.ClientFrom("127.0.41.1");
        using (var registered = await browser.RegisterAsync(email, password))
        {
            Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        }
        var confirmation = Assert.Single(await factory.MailsToAsync(email));
        var confirmLink = AccountTestKit.LinkIn(confirmation);
        secrets.Add(("confirmation link", confirmLink));
        secrets.Add(("confirmation code", Query(confirmLink, "code")));
        await browser.ConfirmAsync(confirmLink);
        using var login = await browser.PostAsJsonAsync("/api/identity/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var tokens = await login.Content.ReadFromJsonAsync<JsonElement>();
        var accessToken = tokens.GetProperty("accessToken").GetString()!;
        secrets.Add(("access token", accessToken));
        secrets.Add(("refresh token", tokens.GetProperty("refreshToken").GetString()!));
        using var user = new HttpClient { BaseAddress = factory.StartKestrel() };
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        // Order, download (zip, metalink, a public link, a link with ?token=).
        var order = await OrderUntilDoneAsync(user, new { datasetId = Sentinel, q = "_00004" }, "journey");
        var orderId = order.Id();
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/user/orders/{orderId}/download")).StatusCode);
        var metalink = await user.GetStringAsync($"/api/user/orders/{orderId}/metalink/download");
        var url = Regex.Match(metalink, @"<url[^>]*>([^<]+)</url>").Groups[1].Value.Replace("&amp;", "&");
        secrets.Add(("order token", Query(url, "orderToken")));
        using var anonymous = new HttpClient { BaseAddress = factory.StartKestrel() };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/user/orders/{orderId}/metalink/download?token={Uri.EscapeDataString(accessToken)}")).StatusCode);

        // Every order action: restart (a new order), pause, resume, delete, cancel.
        using var restarted = await user.PostAsJsonAsync($"/api/user/orders/{orderId}/restart", new { label = "journey again" });
        Assert.True(restarted.IsSuccessStatusCode, await restarted.Content.ReadAsStringAsync());
        var second = (await restarted.Content.ReadFromJsonAsync<JsonElement>()).Id();
        Assert.Equal(HttpStatusCode.OK, (await user.PutAsync($"/api/user/orders/pause/{second}", null)).StatusCode);
        await WaitAsync(async () =>
        {
            using var resumed = await user.PutAsync($"/api/user/orders/resume/{second}", null);
            return resumed.StatusCode == HttpStatusCode.OK; // 409 while its jobs are still stopping
        }, 10, "resumed");
        Assert.Equal(HttpStatusCode.OK, (await user.PutAsync($"/api/user/orders/pause/{second}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.DeleteAsync($"/api/user/orders/{second}")).StatusCode);
        await factory.Services.GetRequiredService<OrderService>().CancelAsync(new Caller(email, false), orderId);

        // Forgotten password: the reset link, a new password.
        using (var forgot = await browser.ForgotPasswordAsync(email))
        {
            Assert.Equal(HttpStatusCode.Redirect, forgot.StatusCode);
        }
        var mails = await factory.MailsToAsync(email);
        var resetLink = AccountTestKit.LinkIn(mails.Last(m => (m.TextBody ?? "").Contains("/Account/ResetPassword", StringComparison.Ordinal)));
        secrets.Add(("reset link", resetLink));
        secrets.Add(("reset code", Query(resetLink, "code")));
        using (var reset = await browser.SubmitAsync(resetLink, "reset-password", new() { ["Input.Password"] = AccountTestKit.NewPassword, ["Input.ConfirmPassword"] = AccountTestKit.NewPassword }))
        {
            Assert.NotNull(AccountTestKit.TestIdText(await reset.Content.ReadAsStringAsync(), "reset-done"));
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.LoginAsync(email, AccountTestKit.NewPassword)).Status);

        // The mails' bodies: a line of each (the greeting aside) must not be in the logs either.
        foreach (var mail in await factory.MailsToAsync(email))
        {
            var body = (mail.TextBody ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 30).ToList();
            Assert.NotEmpty(body);
            secrets.AddRange(body.Select(l => ($"a line of the mail \"{mail.Subject}\"", l)));
        }

        var lines = factory.Logs.Lines.ToArray();
        var leaks = (from line in lines from secret in secrets where secret.Value.Length >= 8 && line.Contains(secret.Value, StringComparison.Ordinal) select $"{secret.What}: {line}").ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks.Take(10)));

        // Each action of the user on an order is logged with the order's id and who did it.
        string[] expected =
        [
            $"Order {orderId} \"journey\" created by {email}",
            $"Order {orderId}: restarted by {email} as order {second}",
            $"Order {second}: Pause by {email}",
            $"Order {second}: Resume by {email}",
            $"Order {second}: Delete by {email}",
            $"Order {orderId}: Cancel by {email}",
        ];
        Assert.All(expected, text => Assert.Contains(lines, l => l.Contains(text, StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains($"created by {email}", StringComparison.Ordinal) && l.Contains($"OrderId={orderId}", StringComparison.Ordinal) && l.Contains($"Actor={email}", StringComparison.Ordinal));
    }

    private static string Query(string url, string name)
    {
        var value = Regex.Match(url, $"[?&]{name}=([^&]+)").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(value), $"no {name} in {url}");
        return Uri.UnescapeDataString(value);
    }
}

/// <summary>The JSON console, as an operator turns it on: a child process, its standard output read line by line.</summary>
public sealed class JsonConsoleTests
{
    [Fact]
    public async Task With_the_json_formatter_every_console_line_is_a_json_object_with_time_level_category_and_values()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using (var portal = await PortalProcess.StartAsync(dataPath, new Dictionary<string, string> { ["Logging:Console:FormatterName"] = "json" }))
            {
                using var client = portal.CreateClient();
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
                var lines = portal.Output.Where(l => l.Trim().Length > 0).ToList();
                Assert.NotEmpty(lines);
                foreach (var line in lines)
                {
                    using var entry = JsonDocument.Parse(line);
                    var root = entry.RootElement;
                    Assert.True(root.TryGetProperty("Timestamp", out var timestamp), line);
                    Assert.EndsWith("Z", timestamp.GetString());
                    Assert.True(root.TryGetProperty("LogLevel", out _), line);
                    Assert.True(root.TryGetProperty("Category", out _), line);
                    Assert.True(root.TryGetProperty("Message", out _), line);
                }
                // Structured values are fields of their own (the engine's start names its instance).
                Assert.Contains(lines, l => JsonDocument.Parse(l).RootElement.TryGetProperty("State", out var state) && state.TryGetProperty("Instance", out _));
            }
        }
        finally
        {
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Regards.Portal.Components.Account;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

public static class IdentitySetup
{
    /// <summary>Cookie for the browser, bearer token for scripts: one policy scheme picks per request.</summary>
    private const string CookieOrBearer = "CookieOrBearer";

    public static IServiceCollection AddPortalIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCascadingAuthenticationState();
        services.AddScoped<IdentityRedirectManager>();
        services.AddScoped<AuthenticationStateProvider, IdentityRevalidatingAuthenticationStateProvider>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = CookieOrBearer;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddPolicyScheme(CookieOrBearer, "Cookie or bearer token", options =>
            {
                options.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    || (string.IsNullOrEmpty(context.Request.Headers.Authorization) && AcceptsQueryTokenAttribute.Applies(context))
                        ? IdentityConstants.BearerScheme
                        : IdentityConstants.ApplicationScheme;
            })
            .AddBearerToken(IdentityConstants.BearerScheme)
            .AddIdentityCookies();
        services.AddQueryTokens();

        // Secure over HTTPS (also behind a TLS proxy, through the forwarded headers), as the sign-in cookie is.
        services.AddAntiforgery(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/Account/Login";
            options.AccessDeniedPath = "/Account/AccessDenied";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.SlidingExpiration = true;
            // The API answers 401/403; only pages redirect to the sign-in page.
            options.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
        });

        services.AddIdentityCore<ApplicationUser>(options =>
            {
                // Registered accounts sign in once their address is confirmed; the demo users and the accounts an
                // administrator creates are confirmed from the start.
                options.SignIn.RequireConfirmedAccount = true;
                options.User.RequireUniqueEmail = true;
                // Failed sign-ins are counted by SignInThrottle (per client and account), not by Identity's lockout,
                // which would let anyone lock any account; Identity's lockout stays for an administrator's lock.
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddOptions<AccountOptions>().Bind(configuration.GetSection(AccountOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<DummyPasswordHash>();
        services.AddScoped<AccountMailer>();
        services.AddScoped<AccountLifecycle>();
        services.AddScoped<AccountSignIn>();
        services.AddScoped<IdentitySeeder>();

        services.AddAuthorizationBuilder()
            .AddPolicy(PortalRoles.AdminPolicy, policy => policy.RequireRole(PortalRoles.Admin, PortalRoles.ProjectAdmin));
        return services;
    }

    private static Task RedirectOrStatus(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }
        return Task.CompletedTask;
    }

    public sealed record LoginRequest(string Email, string Password);

    public sealed record RefreshRequest(string RefreshToken);

    /// <summary><c>POST /api/identity/login</c> and <c>/refresh</c>: bearer tokens for scripts and download clients.</summary>
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/identity").WithTags("Identity");

        group.MapPost("/login", LoginAsync).AllowAnonymous();

        group.MapPost("/refresh", async Task<Results<Ok<AccessTokenResponse>, UnauthorizedHttpResult, SignInHttpResult, ChallengeHttpResult>> (
            RefreshRequest refresh, SignInManager<ApplicationUser> signInManager, IOptionsMonitor<BearerTokenOptions> bearerOptions, TimeProvider time) =>
        {
            var protector = bearerOptions.Get(IdentityConstants.BearerScheme).RefreshTokenProtector;
            var ticket = protector.Unprotect(refresh.RefreshToken);
            if (ticket?.Properties?.ExpiresUtc is not { } expiresUtc || time.GetUtcNow() >= expiresUtc ||
                await signInManager.ValidateSecurityStampAsync(ticket.Principal) is not { } user)
            {
                return TypedResults.Challenge();
            }
            var principal = await signInManager.CreateUserPrincipalAsync(user);
            return TypedResults.SignIn(principal, authenticationScheme: IdentityConstants.BearerScheme);
        }).AllowAnonymous();

        return endpoints;
    }

    /// <summary>
    /// A bearer token for the right password; otherwise one answer for an unknown account, a wrong password and a
    /// locked account (401 <c>BAD_CREDENTIALS</c>), 429 <c>TOO_MANY_ATTEMPTS</c> when this client failed too often
    /// (whatever the accounts), 403 <c>EMAIL_NOT_CONFIRMED</c> for the right password of an unconfirmed account.
    /// </summary>
    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> LoginAsync(
        LoginRequest login, HttpContext context, AccountSignIn signIn, CancellationToken cancellationToken)
    {
        var attempt = await signIn.SignInAsync(login.Email ?? "", login.Password ?? "", context.Connection.RemoteIpAddress,
            persistent: false, bearer: true, cancellationToken);
        switch (attempt.Status)
        {
            case SignInStatus.Succeeded:
                // The bearer handler has written the token response.
                return TypedResults.Empty;
            case SignInStatus.TooManyAttempts:
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(attempt.RetryAfter?.TotalSeconds ?? 1)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(Infrastructure.ApiProblems.Create(StatusCodes.Status429TooManyRequests, "TOO_MANY_ATTEMPTS",
                    "Too many failed sign-ins from this address: wait before trying again."));
            case SignInStatus.NotConfirmed:
                return TypedResults.Problem(Infrastructure.ApiProblems.Create(StatusCodes.Status403Forbidden, "EMAIL_NOT_CONFIRMED",
                    "Confirm your e-mail address first: a new confirmation link was sent to it."));
            default:
                return TypedResults.Problem(Infrastructure.ApiProblems.Create(StatusCodes.Status401Unauthorized, "BAD_CREDENTIALS", "Wrong e-mail or password."));
        }
    }
}

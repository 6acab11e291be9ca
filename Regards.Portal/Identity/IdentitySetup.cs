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

    public static IServiceCollection AddPortalIdentity(this IServiceCollection services)
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
                options.SignIn.RequireConfirmedAccount = false;
                options.User.RequireUniqueEmail = true;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddSingleton<IEmailSender<ApplicationUser>, IdentityNoOpEmailSender>();
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

        group.MapPost("/login", async Task<Results<EmptyHttpResult, ProblemHttpResult>> (LoginRequest login, SignInManager<ApplicationUser> signInManager) =>
        {
            signInManager.AuthenticationScheme = IdentityConstants.BearerScheme;
            var user = await signInManager.UserManager.FindByEmailAsync(login.Email ?? "");
            var result = user is null
                ? Microsoft.AspNetCore.Identity.SignInResult.Failed
                : await signInManager.PasswordSignInAsync(user, login.Password ?? "", isPersistent: false, lockoutOnFailure: true);
            if (result.Succeeded)
            {
                // The bearer handler has written the token response.
                return TypedResults.Empty;
            }
            var problem = result.IsLockedOut
                ? Infrastructure.ApiProblems.Create(StatusCodes.Status401Unauthorized, "LOCKED_OUT", "Too many failed attempts; the account is locked for a while.")
                : Infrastructure.ApiProblems.Create(StatusCodes.Status401Unauthorized, "BAD_CREDENTIALS", "Wrong e-mail or password.");
            return TypedResults.Problem(problem);
        }).AllowAnonymous();

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
}

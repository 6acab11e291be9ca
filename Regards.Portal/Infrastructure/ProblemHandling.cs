using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Regards.Portal.Infrastructure;

/// <summary>Maps exceptions that escape an API endpoint to RFC 9457 ProblemDetails with a <c>code</c> member.</summary>
internal sealed class PortalExceptionHandler(IProblemDetailsService problems, ILogger<PortalExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }

        var (status, code, detail) = exception switch
        {
            PortalException p => (p.Status, p.Code, p.Message),
            BadHttpRequestException b => (b.StatusCode, b.StatusCode == 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST", "The request is malformed."),
            DbUpdateConcurrencyException => (StatusCodes.Status409Conflict, "CONCURRENT_UPDATE", "The resource was changed by someone else; try again."),
            _ => (StatusCodes.Status500InternalServerError, "INTERNAL_ERROR", "An unexpected error occurred."),
        };
        var regardsMessage = (exception as PortalException)?.RegardsMessage;
        if (status >= 500)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
        }

        context.Response.StatusCode = status;
        if (exception is PortalException { RetryAfterSeconds: { } retryAfter })
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = ApiProblems.Create(status, code, detail, regardsMessage),
        });
    }
}

public static class ApiProblems
{
    /// <summary>
    /// A ProblemDetails with the portal's <c>code</c> and REGARDS' <c>messages</c> (its <c>ServerErrorResponse</c>,
    /// whose first entry REGARDS clients match against REGARDS' own keys), so that both kinds of client read it.
    /// </summary>
    public static ProblemDetails Create(int status, string code, string detail, string? regardsMessage = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = ReasonPhrase(status),
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        problem.Extensions["messages"] = new[] { regardsMessage ?? code };
        return problem;
    }

    /// <summary>
    /// Status-code pages of <c>/api</c>: the errors the framework answers with an empty body (401 of the
    /// authentication, 403 of a role policy, 404/405 of the routing, 400/415 of the binding) get the same
    /// ProblemDetails with a <c>code</c> as every other API error (api.md). HEAD answers keep no body, and so do
    /// the deliberate bodiless 5xx (503 "not ready yet" + Retry-After for download clients).
    /// </summary>
    public static Task WriteStatusCodeProblemAsync(StatusCodeContext context) => WriteStatusCodeProblemAsync(context.HttpContext);

    /// <summary>The same, written by an endpoint that runs without the rest of the pipeline (<c>ShortCircuit</c>).</summary>
    public static async Task WriteStatusCodeProblemAsync(HttpContext http)
    {
        var status = http.Response.StatusCode;
        if (HttpMethods.IsHead(http.Request.Method) || status >= 500)
        {
            return;
        }
        var (code, detail) = status switch
        {
            StatusCodes.Status401Unauthorized => ("UNAUTHORIZED", "Sign in, or send a bearer token."),
            StatusCodes.Status403Forbidden => ("FORBIDDEN", "Your role does not allow this."),
            StatusCodes.Status404NotFound => ("NOT_FOUND", "There is no such resource."),
            StatusCodes.Status405MethodNotAllowed => ("METHOD_NOT_ALLOWED", "This resource does not accept that method."),
            StatusCodes.Status413PayloadTooLarge => ("PAYLOAD_TOO_LARGE", "The request body is too large."),
            StatusCodes.Status415UnsupportedMediaType => ("UNSUPPORTED_MEDIA_TYPE", "The request body has the wrong content type."),
            StatusCodes.Status416RangeNotSatisfiable => ("RANGE_NOT_SATISFIABLE", "The requested range is outside the file."),
            _ => ("BAD_REQUEST", "The request is malformed."),
        };
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = Create(status, code, detail) });
    }

    /// <summary>A ProblemDetails result for endpoints that refuse without throwing.</summary>
    public static IResult Result(int status, string code, string detail) =>
        TypedResults.Problem(Create(status, code, detail));

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}

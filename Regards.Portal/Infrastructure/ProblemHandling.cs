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
            ProblemDetails = ApiProblems.Create(status, code, detail),
        });
    }
}

public static class ApiProblems
{
    public static ProblemDetails Create(int status, string code, string detail)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = ReasonPhrase(status),
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        return problem;
    }

    /// <summary>A ProblemDetails result for endpoints that refuse without throwing.</summary>
    public static IResult Result(int status, string code, string detail) =>
        TypedResults.Problem(Create(status, code, detail));

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}

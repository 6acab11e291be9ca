namespace Regards.Portal.Infrastructure;

/// <summary>
/// A refusal of the business rules, carried from a service to the edge: the API turns it into a
/// ProblemDetails with <see cref="Code"/>, the UI into a localised snackbar keyed by <see cref="Code"/>.
/// </summary>
public class PortalException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    /// <summary>
    /// REGARDS' message key for this refusal where REGARDS has its own (e.g. <c>LABEL_NOT_UNIQUE_FOR_OWNER</c>), sent in
    /// the <c>messages</c> member that REGARDS clients read; <see cref="Code"/> otherwise.
    /// </summary>
    public string? RegardsMessage { get; init; }

    /// <summary>Sent as <c>Retry-After</c> (429, 503) when set.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static PortalException NotFound(string what) => new(StatusCodes.Status404NotFound, "NOT_FOUND", $"{what} was not found.");
    public static PortalException BadRequest(string code, string message, string? regardsMessage = null) =>
        new(StatusCodes.Status400BadRequest, code, message) { RegardsMessage = regardsMessage };
    public static PortalException Forbidden(string message) => new(StatusCodes.Status403Forbidden, "FORBIDDEN", message);
    public static PortalException Conflict(string code, string message) => new(StatusCodes.Status409Conflict, code, message);
    public static PortalException Unprocessable(string code, string message, string? regardsMessage = null) =>
        new(StatusCodes.Status422UnprocessableEntity, code, message) { RegardsMessage = regardsMessage };
}

using System.Data.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// Counts the database commands run while <paramref name="counts"/> holds (in the flow that runs them): those answering
/// requests to one path, or those of a test's own step, not the engine's and other loops' work.
/// </summary>
public sealed class CommandCounter(Func<bool> counts) : DbCommandInterceptor
{
    private static readonly HttpContextAccessor Accessor = new();
    private int count;

    /// <summary>The commands of requests to that path (the app registers an <c>IHttpContextAccessor</c>).</summary>
    public static CommandCounter ForRequests(string pathPrefix) =>
        new(() => Accessor.HttpContext?.Request.Path.StartsWithSegments(pathPrefix) == true);

    public int Count => Volatile.Read(ref count);

    private void Seen()
    {
        if (counts())
        {
            Interlocked.Increment(ref count);
        }
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Seen();
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Seen();
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Seen();
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        Seen();
        return ValueTask.FromResult(result);
    }
}

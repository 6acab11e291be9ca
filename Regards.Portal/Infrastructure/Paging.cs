using Microsoft.EntityFrameworkCore;

namespace Regards.Portal.Infrastructure;

/// <summary>REGARDS-style paging: <c>?page=0&amp;size=20</c>, size at most 1 000.</summary>
public sealed record PageRequest(int Page = 0, int Size = 20)
{
    public const int MaxSize = 1000;

    public static PageRequest From(int? page, int? size)
    {
        var request = new PageRequest(page ?? 0, size ?? 20);
        request.Validate();
        return request;
    }

    public void Validate()
    {
        // A page beyond int range of rows would overflow Skip (a 500): refused like any other bad page.
        if (Page < 0 || Size < 1 || Size > MaxSize || (long)Page * Size > int.MaxValue)
        {
            throw PortalException.BadRequest("BAD_PAGE", $"page must be ≥ 0 and size between 1 and {MaxSize}.");
        }
    }

    public int Skip => checked(Page * Size);
}

public sealed record PageMetadata(int Size, long TotalElements, int TotalPages, int Number);

public sealed record PagedResult<T>(IReadOnlyList<T> Content, PageMetadata Metadata)
{
    public static PagedResult<T> Of(IReadOnlyList<T> content, PageRequest request, long total) =>
        new(content, new PageMetadata(request.Size, total, (int)((total + request.Size - 1) / request.Size), request.Page));
}

public static class PagingExtensions
{
    /// <summary>Counts and reads one page on the server; the query must already be ordered.</summary>
    public static async Task<PagedResult<T>> ToPageAsync<T>(this IQueryable<T> query, PageRequest request, CancellationToken cancellationToken = default)
    {
        var total = await query.LongCountAsync(cancellationToken);
        var content = await query.Skip(request.Skip).Take(request.Size).ToListAsync(cancellationToken);
        return PagedResult<T>.Of(content, request, total);
    }

    public static PagedResult<TOut> Map<TIn, TOut>(this PagedResult<TIn> page, Func<TIn, TOut> map) =>
        new(page.Content.Select(map).ToList(), page.Metadata);
}

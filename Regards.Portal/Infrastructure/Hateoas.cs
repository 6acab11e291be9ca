using System.Globalization;
using System.Text.Json.Serialization;

namespace Regards.Portal.Infrastructure;

/// <summary>A REGARDS link: only <c>rel</c> and an absolute <c>href</c> (REGARDS' own Gson LinkAdapter writes nothing else).</summary>
public sealed record Link(string Rel, string Href);

/// <summary>REGARDS' envelope of one resource (Spring HATEOAS <c>EntityModel</c>): <c>{content: {...}, links: [...]}</c>.</summary>
public sealed record EntityModel<T>(T Content, IReadOnlyList<Link> Links);

/// <summary>REGARDS' envelope of a page (<c>PagedModel&lt;EntityModel&lt;T&gt;&gt;</c>): metadata first, as Gson writes it.</summary>
public sealed record PagedModel<T>(
    [property: JsonPropertyOrder(-1)] PageMetadata Metadata,
    IReadOnlyList<EntityModel<T>> Content,
    IReadOnlyList<Link> Links);

/// <summary>
/// Builds REGARDS envelopes for one request: hrefs are absolute (scheme, host and the path prefix the client used,
/// <c>/api</c> or REGARDS' gateway prefix), as REGARDS' <c>WebMvcLinkBuilder</c> makes them.
/// </summary>
public sealed class Hateoas(HttpContext context)
{
    private readonly string root = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{RegardsGateway.ApiPrefix(context)}";

    /// <summary>An absolute href for an API path written as the portal names it (<c>/api/...</c>).</summary>
    public string Href(string apiPath) =>
        apiPath.StartsWith("/api/", StringComparison.Ordinal) ? root + apiPath[4..] : throw new ArgumentException("An /api path was expected.", nameof(apiPath));

    public Link Link(string rel, string apiPath) => new(rel, Href(apiPath));

    public static EntityModel<T> Bare<T>(T content) => new(content, []);

    /// <summary>A page: each element with its links, and the page's own links (self always; first, prev, next, last as Spring Data adds them).</summary>
    public PagedModel<TOut> Page<TIn, TOut>(PagedResult<TIn> page, Func<TIn, EntityModel<TOut>> element)
    {
        var m = page.Metadata;
        var links = new List<Link>();
        var hasPrevious = m.Number > 0;
        var hasNext = m.Number + 1 < m.TotalPages;
        if (hasPrevious || hasNext) links.Add(PageLink("first", 0, m.Size));
        if (hasPrevious) links.Add(PageLink("prev", m.Number - 1, m.Size));
        links.Add(PageLink("self", m.Number, m.Size));
        if (hasNext) links.Add(PageLink("next", m.Number + 1, m.Size));
        if (hasPrevious || hasNext) links.Add(PageLink("last", Math.Max(0, m.TotalPages - 1), m.Size));
        return new PagedModel<TOut>(m, page.Content.Select(element).ToList(), links);
    }

    private Link PageLink(string rel, int number, int size)
    {
        // The request's own query, page and size rewritten (other parameters, e.g. sort, kept).
        var query = context.Request.Query
            .Where(q => q.Key is not ("page" or "size" or "token"))
            .SelectMany(q => q.Value.Select(v => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .Append($"page={number.ToString(CultureInfo.InvariantCulture)}")
            .Append($"size={size.ToString(CultureInfo.InvariantCulture)}");
        return new Link(rel, Href(context.Request.Path.Value ?? "/api") + "?" + string.Join('&', query));
    }
}

using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace Regards.Portal.Catalog;

/// <summary>
/// Turns selection requests into server-side queries over data objects. Every caller — the catalog search,
/// the cart's counts and the order completion — goes through here, so "what a selection means" is written once.
/// </summary>
public static class SelectionQuery
{
    /// <summary>The data types an order delivers: raw data and quicklooks.</summary>
    public static readonly IReadOnlyList<DataType> OrderableTypes = [DataType.RawData, DataType.QuicklookSd, DataType.QuicklookMd, DataType.QuicklookHd];

    /// <summary>Objects matching one request, limited to <paramref name="allowedDatasetIds"/>.</summary>
    public static IQueryable<DataObject> Matching(this IQueryable<DataObject> objects, SelectionRequest request, IReadOnlyCollection<string> allowedDatasetIds) =>
        objects.InDatasets(allowedDatasetIds).Where(Predicate(request));

    /// <summary>Objects of those datasets, the list bound as one array parameter.</summary>
    private static IQueryable<DataObject> InDatasets(this IQueryable<DataObject> objects, IReadOnlyCollection<string> datasetIds)
    {
        var ids = datasetIds.ToList();
        return objects.Where(o => EF.Parameter(ids).Contains(o.DatasetId));
    }

    /// <summary>Objects matching any of the requests (their union, each object once).</summary>
    public static IQueryable<DataObject> MatchingAny(this IQueryable<DataObject> objects, IEnumerable<SelectionRequest> requests, IReadOnlyCollection<string> allowedDatasetIds)
    {
        // EF writes a chain of ORs without parentheses and SQLite parses it as deep as it is long (its limit is a depth
        // of 1000): the cart's maximum of selections (BasketOptions.MaxSelections) keeps the chain well within that.
        Expression<Func<DataObject, bool>>? union = null;
        foreach (var request in requests)
        {
            union = union is null ? Predicate(request) : Or(union, Predicate(request));
        }
        if (union is null)
        {
            return objects.Where(_ => false);
        }
        return objects.InDatasets(allowedDatasetIds).Where(union);
    }

    /// <summary>Objects that have at least one orderable file.</summary>
    public static IQueryable<DataObject> Orderable(this IQueryable<DataObject> objects) =>
        objects.Where(o => o.Files.Any(f => OrderableTypes.Contains(f.DataType)));

    public static Expression<Func<DataObject, bool>> Predicate(SelectionRequest request)
    {
        Expression<Func<DataObject, bool>> predicate = _ => true;
        if (request.DatasetId is { Length: > 0 } datasetId)
        {
            predicate = And(predicate, o => o.DatasetId == datasetId);
        }
        if (request.Q is { Length: > 0 } q)
        {
            // Case-insensitive (ASCII letters) on every provider.
            var pattern = Infrastructure.TextSearch.ContainsPattern(q);
            predicate = And(predicate, o =>
                EF.Functions.Like(o.Label.ToUpper(), pattern, Infrastructure.TextSearch.Escape) ||
                EF.Functions.Like(o.ProviderId.ToUpper(), pattern, Infrastructure.TextSearch.Escape) ||
                EF.Functions.Like(o.Platform!.ToUpper(), pattern, Infrastructure.TextSearch.Escape) ||
                EF.Functions.Like(o.Instrument!.ToUpper(), pattern, Infrastructure.TextSearch.Escape) ||
                EF.Functions.Like(o.ProcessingLevel!.ToUpper(), pattern, Infrastructure.TextSearch.Escape));
        }
        if (request.From is { } from)
        {
            predicate = And(predicate, o => o.AcquisitionDate >= from);
        }
        if (request.To is { } to)
        {
            predicate = And(predicate, o => o.AcquisitionDate <= to);
        }
        if (request.IncludeIds is { Count: > 0 } include)
        {
            // One array parameter per list (json_each, OPENJSON, an array), not one SQL variable per id: many selections of
            // many ids stay within the providers' parameter limits.
            var ids = include.ToList();
            predicate = And(predicate, o => EF.Parameter(ids).Contains(o.Id));
        }
        if (request.ExcludeIds is { Count: > 0 } exclude)
        {
            var ids = exclude.ToList();
            predicate = And(predicate, o => !EF.Parameter(ids).Contains(o.Id));
        }
        return predicate;
    }

    private static Expression<Func<T, bool>> And<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right) =>
        Combine(left, right, Expression.AndAlso);

    private static Expression<Func<T, bool>> Or<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right) =>
        Combine(left, right, Expression.OrElse);

    private static Expression<Func<T, bool>> Combine<T>(Expression<Func<T, bool>> left, Expression<Func<T, bool>> right, Func<Expression, Expression, BinaryExpression> merge)
    {
        var parameter = left.Parameters[0];
        var rightBody = new ReplaceParameter(right.Parameters[0], parameter).Visit(right.Body);
        return Expression.Lambda<Func<T, bool>>(merge(left.Body, rightBody), parameter);
    }

    private sealed class ReplaceParameter(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}

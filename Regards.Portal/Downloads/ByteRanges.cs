using System.Globalization;
using System.Text;

namespace Regards.Portal.Downloads;

/// <summary>
/// The bytes of a file that reached someone: disjoint, sorted half-open ranges <c>[from, to)</c>, overlapping and
/// adjacent ones merged. Stored as text (<c>"0-100,200-300"</c>) and bounded: past <see cref="MaxRanges"/> ranges the
/// smallest are forgotten, which can only make a file look less delivered than it was, never more.
/// </summary>
public sealed class ByteRanges
{
    /// <summary>Enough for any real download client (aria2 splits a file in at most 16 segments).</summary>
    public const int MaxRanges = 32;

    /// <summary>The longest text <see cref="Format"/> writes: 32 ranges of two 19-digit numbers.</summary>
    public const int MaxTextLength = MaxRanges * (19 + 1 + 19 + 1);

    private readonly List<(long From, long To)> ranges = [];

    public IReadOnlyList<(long From, long To)> Ranges => ranges;

    /// <summary>How many bytes the ranges hold.</summary>
    public long Length => ranges.Sum(r => r.To - r.From);

    /// <summary>The ranges of a stored text; a malformed part is ignored (it counts as not delivered).</summary>
    public static ByteRanges Parse(string? text)
    {
        var set = new ByteRanges();
        if (string.IsNullOrEmpty(text))
        {
            return set;
        }
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0
                && long.TryParse(part.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                && long.TryParse(part.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var to))
            {
                set.Add(from, to);
            }
        }
        return set;
    }

    /// <summary>Adds <c>[from, to)</c>, merged with the ranges it overlaps or touches; an empty range changes nothing.</summary>
    public ByteRanges Add(long from, long to)
    {
        if (from < 0 || to <= from)
        {
            return this;
        }
        // The first range that ends at or after 'from' (touching counts), then every range that starts at or before 'to'.
        var i = 0;
        while (i < ranges.Count && ranges[i].To < from)
        {
            i++;
        }
        var j = i;
        while (j < ranges.Count && ranges[j].From <= to)
        {
            from = Math.Min(from, ranges[j].From);
            to = Math.Max(to, ranges[j].To);
            j++;
        }
        ranges.RemoveRange(i, j - i);
        ranges.Insert(i, (from, to));
        return this;
    }

    /// <summary>Every byte of a file of <paramref name="size"/> bytes is there (an empty file always is).</summary>
    public bool Covers(long size) => size <= 0 || ranges is [{ From: <= 0 } first, ..] && first.To >= size;

    /// <summary>At most <see cref="MaxRanges"/> ranges: the smallest go first.</summary>
    public ByteRanges Bounded()
    {
        while (ranges.Count > MaxRanges)
        {
            var smallest = 0;
            for (var k = 1; k < ranges.Count; k++)
            {
                if (ranges[k].To - ranges[k].From < ranges[smallest].To - ranges[smallest].From)
                {
                    smallest = k;
                }
            }
            ranges.RemoveAt(smallest);
        }
        return this;
    }

    public string Format()
    {
        var text = new StringBuilder();
        foreach (var (from, to) in ranges)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }
            text.Append(from.ToString(CultureInfo.InvariantCulture)).Append('-').Append(to.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    public override string ToString() => Format();
}

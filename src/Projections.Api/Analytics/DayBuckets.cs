using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary>What one entity (an order, a cart, a click) adds to the buckets of the day it falls on, taken out (sign -1)
/// or put back (+1).</summary>
public readonly record struct DayChange(DateTimeOffset At, AnalyticsFigures Figures, int Sign);

/// <summary>Files a batch's changes under the day and month bucket they fall on in each zone, loading the buckets at once.</summary>
public static class DayBuckets
{
    /// <param name="create">A new bucket for an id with none stored (<c>month</c>: a month's bucket).</param>
    public static async Task FileAsync<TBucket>(IDocumentSource source, DocumentChanges result, AnalyticsZones zones, List<DayChange> changes,
        Func<string, bool, TBucket> create, CancellationToken cancellation)
        where TBucket : class, IEntityState, IFiguresBucket
    {
        if (changes.Count == 0)
        {
            return;
        }

        var filed = new List<(string Day, string Month, DateOnly Date, AnalyticsFigures Figures, int Sign)>(changes.Count * zones.All.Count);
        foreach (var zone in zones.All)
        {
            foreach (var (at, figures, sign) in changes)
            {
                var date = AnalyticsZones.DayOf(at, zone);
                filed.Add((AnalyticsBucket.DayId(zone, date), AnalyticsBucket.MonthId(zone, date), date, figures, sign));
            }
        }

        var ids = filed.SelectMany(f => new[] { f.Day, f.Month }).Distinct().ToList();
        var buckets = new Dictionary<string, TBucket>(await source.LoadManyAsync<TBucket>(ids, cancellation), StringComparer.Ordinal);
        TBucket Bucket(string id, bool month) => buckets.TryGetValue(id, out var bucket) ? bucket : buckets[id] = create(id, month);

        foreach (var (day, month, date, figures, sign) in filed)
        {
            Bucket(day, month: false).Add(date, figures, sign);
            Bucket(month, month: true).Add(date, figures, sign);
        }

        result.Store(buckets.Values);
    }
}

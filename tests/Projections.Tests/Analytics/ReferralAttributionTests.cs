using System.Text.Json;
using Projections.Analytics;
using Projections.ReadModels;
using Projections.Referrals;

namespace Projections.Tests.Analytics;

/// <summary>
/// The referral attribution by itself, events in and figures out, against attribution worked out by brute force: random
/// clicks and sales of a few visitors (one of them very busy), delivered in random order and random batches, with the
/// documents kept between batches as the database would (a JSON copy).
/// </summary>
public sealed class ReferralAttributionTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 200)]
    [InlineData(4, 200)]
    [InlineData(5, 1500)]
    public async Task Figures_per_day_equal_brute_force_attribution_whatever_the_order_and_batches(int seed, int maxBatch)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2024, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var events = new List<object>();
        for (var i = 0; i < 1500; i++)
        {
            var visitor = random.Next(4) == 0 ? $"v-{random.Next(20)}" : "anonymous";
            var org = random.Next(5) == 0 ? "org-b" : "org-a";
            // Minutes apart over 100 days, across new year, with some instants shared.
            var at = start.AddMinutes(random.Next(0, 100 * 1440 / 7) * 7);
            events.Add(random.Next(3) == 0
                ? new ArtistStoreOrderCompleted($"s-{i}", visitor, org, random.Next(1, 10_000) / 100m, "USD", at)
                : new ReferralClicked($"r-{i}", visitor, org, at));
        }

        var store = new JsonStore();
        var buckets = new Dictionary<DateOnly, AnalyticsFigures>();
        var shuffled = events.OrderBy(_ => random.Next()).ToList();
        for (var at = 0; at < shuffled.Count;)
        {
            var size = Math.Min(random.Next(1, maxBatch + 1), shuffled.Count - at);
            var attribution = new ReferralAttribution();
            foreach (var e in shuffled.Skip(at).Take(size))
            {
                switch (e)
                {
                    case ReferralClicked c: attribution.Add(c); break;
                    case ArtistStoreOrderCompleted s: attribution.Add(s); break;
                }
            }

            var changes = new List<DayChange>();
            var result = new DocumentChanges();
            await attribution.ApplyAsync(store, result, changes, CancellationToken.None);
            store.Write(result);
            foreach (var (instant, figures, sign) in changes)
            {
                var day = DateOnly.FromDateTime(instant.UtcDateTime);
                (buckets.TryGetValue(day, out var bucket) ? bucket : buckets[day] = new AnalyticsFigures()).Add(figures, sign);
            }

            at += size;
        }

        var expected = BruteForce(events);
        foreach (var day in expected.Keys.Union(buckets.Keys).Order())
        {
            var want = expected.GetValueOrDefault(day);
            var got = buckets.GetValueOrDefault(day) ?? new AnalyticsFigures();
            Assert.True((want.Clicks, want.Conversions, want.Revenue) == (got.Referrals, got.Conversions, got.AttributedRevenue),
                $"{day}: expected {want}, got ({got.Referrals}, {got.Conversions}, {got.AttributedRevenue})");
        }
    }

    /// <summary>Every sale to the latest click (ties: the greater id) by its visitor to its store at or before it, within 30
    /// days; figures on the click's day.</summary>
    private static Dictionary<DateOnly, (long Clicks, long Conversions, decimal Revenue)> BruteForce(List<object> events)
    {
        var clicks = events.OfType<ReferralClicked>().ToList();
        var credited = new Dictionary<string, decimal>();
        foreach (var sale in events.OfType<ArtistStoreOrderCompleted>())
        {
            var click = clicks
                .Where(c => c.VisitorId == sale.VisitorId && c.OrgId == sale.OrgId && c.OccurredAt <= sale.OccurredAt
                            && c.OccurredAt >= sale.OccurredAt.AddDays(-30))
                .OrderByDescending(c => c.OccurredAt).ThenByDescending(c => c.ReferralId, StringComparer.Ordinal).FirstOrDefault();
            if (click is not null)
            {
                credited[click.ReferralId] = credited.GetValueOrDefault(click.ReferralId) + sale.Amount;
            }
        }

        return clicks.GroupBy(c => DateOnly.FromDateTime(c.OccurredAt.UtcDateTime)).ToDictionary(g => g.Key, g =>
            ((long)g.Count(), (long)g.Count(c => credited.ContainsKey(c.ReferralId)), g.Sum(c => credited.GetValueOrDefault(c.ReferralId))));
    }

    /// <summary>Documents as the database keeps them: written at the end of a batch, read back as new objects.</summary>
    private sealed class JsonStore : IDocumentSource
    {
        private readonly Dictionary<(Type, string), string> _documents = [];

        public Task<IReadOnlyDictionary<string, T>> LoadManyAsync<T>(IReadOnlyCollection<string> ids, CancellationToken cancellation)
            where T : class, IEntityState
        {
            var found = new Dictionary<string, T>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                if (_documents.TryGetValue((typeof(T), id), out var json))
                {
                    found[id] = JsonSerializer.Deserialize<T>(json)!;
                }
            }

            return Task.FromResult<IReadOnlyDictionary<string, T>>(found);
        }

        public void Write(DocumentChanges changes)
        {
            foreach (var (type, id, document) in changes.All())
            {
                _documents[(type, id)] = JsonSerializer.Serialize(document, type);
            }
        }
    }
}

// Analytics/: the Admin Analytics API: its projection (day and month buckets, orders, carts, referral days, artist
// names), range parsing, the JSON and CSV report and the route. Uses ReadModels, the Orders, Carts, Referrals and Artists
// events, Ingest's contract (status names), Hosting and Auth.
using Projections.ReadModels;
using Projections.Artists;
using Projections.Carts;
using Projections.Orders;
using Projections.Referrals;

namespace Projections.Analytics;

/// <summary>
/// Keeps the Admin Analytics read models: a bucket of additive figures per UTC day and per month, plus artist names.
/// Orders and carts each keep a state document, and a visitor's referrals to one artist are kept by day
/// (<see cref="ReferralAttribution"/>); for every daemon batch the touched documents are loaded at once, their old
/// contributions are taken out of the buckets of the days they belong to, their events applied, and their new
/// contributions put back. So a late status change updates the order's placement day, a late cart item the cart's
/// creation day, and a late click attributes a sale to the click's day, whatever the arrival order; and a rebuild
/// reproduces the same documents. A referral click or store sale counts once per referral id or store order: only the
/// first event of its stream is applied, however often it is published under new envelope ids.
/// </summary>
/// <param name="zones">UTC and the configured zones: each has its own day and month buckets.</param>
public sealed class GalleryAnalyticsProjection(AnalyticsZones zones) : IReadModelBuilder
{
    public const string ProjectionName = "GalleryAnalytics";

    public string Name => ProjectionName;

    /// <summary>The zones besides UTC that this projection keeps buckets for: a slot serves those it has kept from the
    /// first event on.</summary>
    public IReadOnlyList<string> Coverage { get; } = [.. zones.Ids.Skip(1)];

    public IReadOnlyList<Type> EventTypes { get; } =
    [
        typeof(OrderPlaced), typeof(OrderStatusChanged), typeof(CartCreated), typeof(CartItemAdded), typeof(CartItemRemoved),
        typeof(CartCheckedOut), typeof(ReferralClicked), typeof(ArtistStoreOrderCompleted), typeof(ArtistProfileUpdated),
    ];

    public IReadOnlyList<Type> DocumentTypes { get; } =
        [typeof(OrderState), typeof(CartState), typeof(ReferralDay), typeof(ReferralCalendar), typeof(ArtistProfile), typeof(AnalyticsBucket)];

    public async Task<DocumentChanges> PrepareAsync(IDocumentSource source, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        var result = new DocumentChanges();
        var orders = new TouchedEntities<OrderState>(id => new OrderState { Id = id }, (order, e) => order.Apply(e));
        var carts = new TouchedEntities<CartState>(id => new CartState { Id = id }, (cart, e) => cart.Apply(e));
        var referrals = new ReferralAttribution();
        var artists = new Dictionary<string, List<ArtistProfileUpdated>>(StringComparer.Ordinal);
        foreach (var (data, version) in events)
        {
            switch (data)
            {
                case OrderPlaced x: orders.Add(x.OrderId, x); break;
                case OrderStatusChanged x: orders.Add(x.OrderId, x); break;
                case CartCreated x: carts.Add(x.CartId, x); break;
                case CartItemAdded x: carts.Add(x.CartId, x); break;
                case CartItemRemoved x: carts.Add(x.CartId, x); break;
                case CartCheckedOut x: carts.Add(x.CartId, x); break;
                case ReferralClicked x when version == 1: referrals.Add(x); break;
                case ArtistStoreOrderCompleted x when version == 1: referrals.Add(x); break;
                case ArtistProfileUpdated x:
                    (artists.TryGetValue(x.OrgId, out var updates) ? updates : artists[x.OrgId] = []).Add(x);
                    break;
            }
        }

        // What each touched order, cart and visitor's day adds to the buckets of its day, before (-1) and after (+1).
        var changes = new List<(DateTimeOffset At, AnalyticsFigures Figures, int Sign)>();
        void Contribute(IDayContributor entity, int sign) => changes.AddRange(entity.Contributions().Select(c => (c.At, c.Figures, sign)));
        await orders.ApplyAsync(source, result, Contribute, cancellation);
        await carts.ApplyAsync(source, result, Contribute, cancellation);
        await referrals.ApplyAsync(source, result, changes, cancellation);
        await ApplyToBucketsAsync(source, result, changes, cancellation);
        await UpdateArtistsAsync(source, result, artists, cancellation);
        return result;
    }

    /// <summary>Every change filed under the day and month it falls on in each zone.</summary>
    private async Task ApplyToBucketsAsync(IDocumentSource source, DocumentChanges result,
        List<(DateTimeOffset At, AnalyticsFigures Figures, int Sign)> changes, CancellationToken cancellation)
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
        var buckets = new Dictionary<string, AnalyticsBucket>(await source.LoadManyAsync<AnalyticsBucket>(ids, cancellation), StringComparer.Ordinal);
        AnalyticsBucket Bucket(string id, bool month) =>
            buckets.TryGetValue(id, out var bucket) ? bucket : buckets[id] = new AnalyticsBucket { Id = id, Days = month ? new() : null };

        foreach (var (day, month, date, figures, sign) in filed)
        {
            Bucket(day, month: false).Add(date, figures, sign);
            Bucket(month, month: true).Add(date, figures, sign);
        }

        result.Store(buckets.Values);
    }

    private static async Task UpdateArtistsAsync(IDocumentSource source, DocumentChanges result,
        Dictionary<string, List<ArtistProfileUpdated>> updates, CancellationToken cancellation)
    {
        if (updates.Count == 0)
        {
            return;
        }

        var profiles = await source.LoadManyAsync<ArtistProfile>(updates.Keys, cancellation);
        foreach (var (org, events) in updates)
        {
            var profile = profiles.GetValueOrDefault(org) ?? new ArtistProfile { Id = org };
            events.ForEach(profile.Apply);
            result.Store(profile);
        }
    }
}

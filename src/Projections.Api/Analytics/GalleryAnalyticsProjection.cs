// Analytics/: the Admin Analytics API: its two projections (the gallery's day and month buckets, orders, carts and
// artist names; referral attribution's days, calendars and buckets), range parsing, the JSON and CSV report and the
// route. Uses ReadModels, the Orders, Carts, Referrals and Artists events, Ingest's contract (status names), Hosting
// and Auth.
using Projections.ReadModels;
using Projections.Artists;
using Projections.Carts;
using Projections.Orders;

namespace Projections.Analytics;

/// <summary>
/// Keeps the gallery side of the Admin Analytics read models: a bucket of additive figures per day and per month in
/// each zone (orders, revenue, statuses, artists, carts), plus artist names; the referral figures are
/// <see cref="ReferralAnalyticsProjection"/>'s, so the two replay side by side in a rebuild. Orders and carts each keep a
/// state document; for every daemon batch the touched documents are loaded at once, their old contributions are taken
/// out of the buckets of the days they belong to, their events applied, and their new contributions put back. So a late
/// status change updates the order's placement day and a late cart item the cart's creation day, whatever the arrival
/// order; and a rebuild reproduces the same documents.
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
        typeof(CartCheckedOut), typeof(ArtistProfileUpdated),
    ];

    public IReadOnlyList<Type> DocumentTypes { get; } = [typeof(OrderState), typeof(CartState), typeof(ArtistProfile), typeof(AnalyticsBucket)];

    public async Task<DocumentChanges> PrepareAsync(IDocumentSource source, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        var result = new DocumentChanges();
        var orders = new TouchedEntities<OrderState>(id => new OrderState { Id = id }, (order, e) => order.Apply(e));
        var carts = new TouchedEntities<CartState>(id => new CartState { Id = id }, (cart, e) => cart.Apply(e));
        var artists = new Dictionary<string, List<ArtistProfileUpdated>>(StringComparer.Ordinal);
        foreach (var (data, _) in events)
        {
            switch (data)
            {
                case OrderPlaced x: orders.Add(x.OrderId, x); break;
                case OrderStatusChanged x: orders.Add(x.OrderId, x); break;
                case CartCreated x: carts.Add(x.CartId, x); break;
                case CartItemAdded x: carts.Add(x.CartId, x); break;
                case CartItemRemoved x: carts.Add(x.CartId, x); break;
                case CartCheckedOut x: carts.Add(x.CartId, x); break;
                case ArtistProfileUpdated x:
                    (artists.TryGetValue(x.OrgId, out var updates) ? updates : artists[x.OrgId] = []).Add(x);
                    break;
            }
        }

        // What each touched order and cart adds to the buckets of its day, before (-1) and after (+1).
        var changes = new List<DayChange>();
        void Contribute(IDayContributor entity, int sign) => changes.AddRange(entity.Contributions().Select(c => new DayChange(c.At, c.Figures, sign)));
        await orders.ApplyAsync(source, result, Contribute, cancellation);
        await carts.ApplyAsync(source, result, Contribute, cancellation);
        await DayBuckets.FileAsync(source, result, zones, changes, (id, month) => new AnalyticsBucket { Id = id, Days = month ? new() : null }, cancellation);
        await UpdateArtistsAsync(source, result, artists, cancellation);
        return result;
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

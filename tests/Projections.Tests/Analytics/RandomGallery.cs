using System.Globalization;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Analytics;

/// <summary>
/// Random gallery activity over the 90 UTC days ending today: orders with status changes, carts, referral clicks and
/// artist-store sales, artist profiles; valid v1 envelopes per entity, with the awkward cases the analytics must get
/// right (events at 00:00:00Z and 23:59:59Z, instants written with an offset, a status change delivered before its
/// order, a click delivered after the sale it attributes, sales just inside and just outside the 30-day window, repeated
/// click and sale ids, renamed artists). <see cref="Delivery"/> delivers them as an at-least-once publisher would:
/// entities shuffled against each other (each entity's own list in order), about 10% of events again later.
/// </summary>
public sealed class RandomGallery
{
    public const int Days = 90;

    private static readonly string[] Currencies = ["USD", "EUR", "GBP"];
    private static readonly string[] Progression = ["paid", "processing", "partially_shipped", "shipped", "delivered"];
    private static readonly TimeSpan[] Offsets = [TimeSpan.FromHours(-5), TimeSpan.FromHours(5.5), TimeSpan.FromHours(-3), TimeSpan.FromHours(14), TimeSpan.FromHours(-12)];
    private static readonly TimeSpan Window = TimeSpan.FromDays(30);

    private readonly Random _random;
    private readonly int _seed;
    private readonly List<List<JsonObject>> _entities = [];
    private readonly List<string> _orgIds = [];
    private readonly List<(string VisitorId, string[] OrgIds)> _visitors = [];
    private readonly List<(string VisitorId, string OrgId, DateTime At, List<JsonObject> Entity)> _clicks = [];
    private readonly Dictionary<string, int> _storeOrderNumbers = new(StringComparer.Ordinal);
    private int _orderNumber;

    public RandomGallery(int seed, DateOnly? today = null)
    {
        _seed = seed;
        _random = new Random(seed);
        LastDay = today ?? DateOnly.FromDateTime(DateTime.UtcNow);
        FirstDay = LastDay.AddDays(-(Days - 1));
        BoundaryDay = LastDay.AddDays(-40);

        // 40 artists; mixed spellings so that "ties: lower orgId first" has to be an ordinal comparison.
        for (var k = 0; k < 40; k++)
        {
            _orgIds.Add(k switch
            {
                < 20 => $"org-{k:D2}",
                < 30 => $"ORG-{k}",
                _ => $"org_{k}",
            });
        }
    }

    /// <summary>
    /// The gallery of the randomized test: 40 artists (30 with profiles), ~600 orders, ~500 carts, 1,500 clicks by 300
    /// visitors and 400 artist-store sales, and the boundary day: well over 5,000 events.
    /// </summary>
    public static RandomGallery Standard(int seed, DateOnly? today = null) =>
        new RandomGallery(seed, today).WithArtistProfiles(30).WithOrders(590).WithCarts(496).WithReferrals(1500, 300, 400).WithBoundaryDay();

    /// <summary>The first of the 90 days (today − 89).</summary>
    public DateOnly FirstDay { get; }

    /// <summary>Today (UTC) when the gallery was made.</summary>
    public DateOnly LastDay { get; }

    /// <summary>A day with orders, carts and clicks at exactly 00:00:00Z and 23:59:59Z, and some on the days around it.</summary>
    public DateOnly BoundaryDay { get; }

    public int EventCount => _entities.Sum(e => e.Count);

    public IReadOnlyList<string> OrgIds => _orgIds;

    /// <summary>Profiles for the first <paramref name="count"/> artists; a quarter of them renamed later.</summary>
    public RandomGallery WithArtistProfiles(int count)
    {
        for (var k = 0; k < count; k++)
        {
            var orgId = _orgIds[k];
            var name = (k % 5) switch
            {
                0 => $"Studio {k}",
                1 => $"Smith, Jones & Co {k}",
                2 => $"The \"Blue\" Kiln {k}",
                3 => $"Atelier Émile {k}",
                _ => $"Bob's Pottery {k}",
            };
            var at = RandomInstant();
            var events = new List<JsonObject> { Event("artist.profile_updated", new JsonObject { ["orgId"] = orgId, ["name"] = name }, at) };
            if (k == 1)
            {
                // Delivered second, but it happened earlier: the first name stays the latest.
                events.Add(Event("artist.profile_updated", new JsonObject { ["orgId"] = orgId, ["name"] = name + " (old)" }, at.AddHours(-3)));
            }
            else if (k == 2)
            {
                // The same instant: the later-delivered one wins.
                events.Add(Event("artist.profile_updated", new JsonObject { ["orgId"] = orgId, ["name"] = name + " (same instant)" }, at));
            }
            else if (k % 4 == 0)
            {
                events.Add(Event("artist.profile_updated", new JsonObject { ["orgId"] = orgId, ["name"] = name + " (renamed)" },
                    at.AddSeconds(_random.Next(1, 20 * 86400))));
            }

            _entities.Add(events);
        }

        return this;
    }

    /// <summary>Gallery orders with 1..4 items and 0..3 status changes each; about 10% end cancelled.</summary>
    public RandomGallery WithOrders(int count)
    {
        for (var n = 0; n < count; n++)
        {
            AddOrder(RandomInstant());
        }

        return this;
    }

    private void AddOrder(DateTime placedAt)
    {
        var orderId = $"o-{_seed}-{_orderNumber++}";
        var items = new JsonArray();
        for (var i = _random.Next(1, 5); i > 0; i--)
        {
            items.Add(new JsonObject
            {
                ["productId"] = $"p-{_random.Next(300)}",
                ["orgId"] = Pick(_orgIds),
                ["quantity"] = _random.Next(1, 9),
                ["unitPrice"] = _random.Next(100, 40_000) / 100m,
            });
        }

        var data = new JsonObject { ["orderId"] = orderId, ["items"] = items };
        if (_random.Next(2) == 0)
        {
            data["customerId"] = $"u-{_random.Next(200)}";
        }

        if (_random.Next(3) == 0)
        {
            data["cartId"] = $"cart-of-{orderId}";
        }

        if (_random.Next(3) > 0)
        {
            data["currency"] = Pick(Currencies);
        }

        var placed = Event("order.placed", data, placedAt);
        var events = new List<JsonObject> { placed };
        JsonObject Change(string status, DateTime at) => Event("order.status_changed", new JsonObject { ["orderId"] = orderId, ["status"] = status }, at);

        // The regular life of an order: 0..3 changes along the progression, each later than the one before.
        var at = placedAt;
        var step = -1;
        var changes = _random.Next(0, 4);
        var cancelled = _random.Next(100) < 10;
        if (cancelled && changes == 0)
        {
            changes = 1;
        }

        for (var c = 0; c < changes; c++)
        {
            at = at.AddSeconds(_random.Next(60, 3 * 86400));
            step = Math.Min(step + _random.Next(1, 3), Progression.Length - 1);
            events.Add(Change(cancelled && c == changes - 1 ? "cancelled" : Progression[step], at));
        }

        switch (_random.Next(100))
        {
            case < 4:
                // The latest change is delivered before order.placed: it must not be lost (nor overridden by "pending").
                events.Insert(0, Change(Pick(["shipped", "delivered", "cancelled", "paid"]), at.AddSeconds(_random.Next(60, 86400))));
                break;
            case < 7:
                // A change at the very instant of placement, delivered after it: the change wins over placement's pending.
                if (changes == 0)
                {
                    events.Add(Change(Pick(["paid", "cancelled"]), placedAt));
                }

                break;
            case < 9:
                // Two changes at the same instant: the later-delivered wins.
                var same = at.AddSeconds(_random.Next(60, 86400));
                events.Add(Change("processing", same));
                events.Add(Change(Pick(["shipped", "cancelled"]), same));
                break;
            case < 10:
                // A change stamped before the placement (clock skew), delivered after it: placement's pending is later.
                if (changes == 0)
                {
                    events.Add(Change("paid", placedAt.AddSeconds(-_random.Next(1, 3600))));
                }

                break;
            case < 11:
                // Cancelled, then reinstated: the current status is the later one.
                events.Add(Change("cancelled", at.AddSeconds(60)));
                events.Add(Change("paid", at.AddSeconds(120)));
                break;
            case < 12:
                // order.placed never arrives: the order counts nowhere.
                events.Remove(placed);
                if (events.Count == 0)
                {
                    events.Add(Change("paid", placedAt.AddHours(1)));
                }

                break;
        }

        _entities.Add(events);
    }

    /// <summary>Carts with 0..6 item additions and removals each, about half checked out.</summary>
    public RandomGallery WithCarts(int count)
    {
        for (var n = 0; n < count; n++)
        {
            AddCart($"c-{_seed}-{n}", RandomInstant());
        }

        return this;
    }

    private void AddCart(string cartId, DateTime createdAt)
    {
        var data = new JsonObject { ["cartId"] = cartId };
        if (_random.Next(2) == 0)
        {
            data["customerId"] = $"u-{_random.Next(200)}";
        }

        var events = new List<JsonObject> { Event("cart.created", data, createdAt) };
        var products = Enumerable.Range(0, 4).Select(_ => $"p-{_random.Next(300)}").ToArray();
        var at = createdAt;
        for (var k = _random.Next(0, 7); k > 0; k--)
        {
            // Some items come days after the cart was created: they still belong to the creation day's cart.
            at = at.AddSeconds(_random.Next(30, 2 * 86400));
            events.Add(_random.Next(100) < 65
                ? Event("cart.item_added", new JsonObject
                {
                    ["cartId"] = cartId,
                    ["productId"] = Pick(products),
                    ["quantity"] = _random.Next(1, 6),
                    ["unitPrice"] = _random.Next(100, 25_000) / 100m,
                }, at)
                : Event("cart.item_removed", new JsonObject { ["cartId"] = cartId, ["productId"] = Pick(products), ["quantity"] = _random.Next(1, 7) }, at));
        }

        if (_random.Next(2) == 0)
        {
            events.Add(Event("cart.checked_out", new JsonObject { ["cartId"] = cartId, ["orderId"] = $"co-{cartId}" }, at.AddSeconds(_random.Next(30, 7200))));
        }

        _entities.Add(events);
    }

    /// <summary>
    /// Referral clicks by <paramref name="visitors"/> visitors (each mostly to 3 favourite stores) and artist-store sales:
    /// most within 30 days after a click of the same visitor to the same store (some at exactly 0 and exactly 30 days),
    /// some just too late, some before the click, some by visitors who never clicked; a fifth of the attributable ones
    /// delivered before their click. A few clicks and sales are published twice under new envelope ids.
    /// </summary>
    public RandomGallery WithReferrals(int clicks, int visitors, int storeOrders)
    {
        for (var v = 0; v < visitors; v++)
        {
            _visitors.Add(($"v-{_seed}-{v}", [Pick(_orgIds), Pick(_orgIds), Pick(_orgIds)]));
        }

        for (var n = 0; n < clicks; n++)
        {
            var (visitorId, favourites) = Pick(_visitors);
            AddClick($"r-{_seed}-{n}", visitorId, _random.Next(10) == 0 ? Pick(_orgIds) : Pick(favourites), RandomInstant());
        }

        for (var n = 0; n < storeOrders; n++)
        {
            var click = Pick(_clicks);
            var roll = _random.Next(100);
            var (visitorId, orgId, at) = roll switch
            {
                < 55 => (click.VisitorId, click.OrgId, (_random.Next(10)) switch
                {
                    0 => click.At,
                    1 => click.At + Window,
                    _ => click.At.AddSeconds(_random.Next(0, (int)Window.TotalSeconds)),
                }),
                < 65 => (click.VisitorId, click.OrgId, click.At + Window + TimeSpan.FromSeconds(_random.Next(2) == 0 ? 1 : _random.Next(1, 15 * 86400))),
                < 75 => (click.VisitorId, click.OrgId, click.At.AddSeconds(-_random.Next(1, 5 * 86400))),
                < 90 => ($"v-{_seed}-never-clicked-{n}", Pick(_orgIds), RandomInstant()),
                _ => (click.VisitorId, Pick(_orgIds), click.At.AddSeconds(_random.Next(0, 10 * 86400))),
            };
            var sale = StoreOrder(visitorId, orgId, at);
            if (roll < 55 && _random.Next(5) == 0)
            {
                click.Entity.Insert(0, sale); // the click arrives after the sale it attributes
            }
            else
            {
                _entities.Add([sale]);
            }

            if (_random.Next(50) == 0)
            {
                _entities.Add([Republished(sale)]);
            }
        }

        return this;
    }

    private void AddClick(string referralId, string visitorId, string orgId, DateTime at)
    {
        var click = Event("referral.clicked", new JsonObject { ["referralId"] = referralId, ["visitorId"] = visitorId, ["orgId"] = orgId }, at);
        var entity = new List<JsonObject> { click };
        _entities.Add(entity);
        _clicks.Add((visitorId, orgId, at, entity));
        if (_random.Next(100) == 0)
        {
            _entities.Add([Republished(click)]);
        }
    }

    private JsonObject StoreOrder(string visitorId, string orgId, DateTime at)
    {
        // Store order numbers restart per store, so the same orderId occurs in several stores: different sales.
        var number = _storeOrderNumbers[orgId] = _storeOrderNumbers.GetValueOrDefault(orgId) + 1;
        var data = new JsonObject { ["orderId"] = $"so-{number}", ["visitorId"] = visitorId, ["orgId"] = orgId, ["amount"] = _random.Next(100, 100_000) / 100m };
        if (_random.Next(2) == 0)
        {
            data["currency"] = Pick(Currencies);
        }

        return Event("artist_store.order_completed", data, at);
    }

    /// <summary>
    /// Orders, carts and clicks at exactly 00:00:00Z and 23:59:59Z of <see cref="BoundaryDay"/>, and at the edges of the
    /// days before and after it; the 00:00:00Z ones partly written as the previous day's evening at −05:00.
    /// </summary>
    public RandomGallery WithBoundaryDay()
    {
        var day = BoundaryDay.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        foreach (var at in new[] { day.AddSeconds(-1), day, day.AddDays(1).AddSeconds(-1), day.AddDays(1) })
        {
            for (var k = 0; k < 3; k++)
            {
                AddOrder(at);
            }

            AddCart($"c-{_seed}-edge-{at:yyyyMMddHHmmss}", at);
            var (visitorId, favourites) = Pick(_visitors);
            AddClick($"r-{_seed}-edge-{at:yyyyMMddHHmmss}", visitorId, favourites[0], at);
            _entities.Add([StoreOrder(visitorId, favourites[0], at.AddHours(1))]);
        }

        return this;
    }

    /// <summary>
    /// For each zone, orders, carts and clicks at the last second before and the first second of local midnight around
    /// every one of its <see cref="ChangeDays"/> in the span (days of 23 or 25 hours) and of two
    /// random days: the edges a zone's buckets must draw to the second.
    /// </summary>
    public RandomGallery WithLocalMidnights(IEnumerable<TimeZoneInfo> zones)
    {
        foreach (var zone in zones)
        {
            var days = ChangeDays(zone).Concat([FirstDay.AddDays(_random.Next(1, Days - 1)), FirstDay.AddDays(_random.Next(1, Days - 1))]);
            foreach (var day in days.Distinct())
            {
                foreach (var midnight in new[] { day, day.AddDays(1) }.Select(d => AnalyticsReference.FirstSecondOf(d, zone)))
                {
                    foreach (var at in new[] { midnight.AddSeconds(-1), midnight })
                    {
                        var tag = $"{zone.Id.Replace('/', '-')}-{at:yyyyMMddHHmmss}";
                        AddOrder(at);
                        AddCart($"c-{_seed}-{tag}", at);
                        var (visitorId, favourites) = Pick(_visitors);
                        AddClick($"r-{_seed}-{tag}", visitorId, favourites[0], at);
                    }
                }
            }
        }

        return this;
    }

    /// <summary>The days of the span that do not last 24 hours in a zone (its daylight-saving changes).</summary>
    public IReadOnlyList<DateOnly> ChangeDays(TimeZoneInfo zone) =>
        Enumerable.Range(0, Days).Select(FirstDay.AddDays).Where(d => AnalyticsReference.LengthOf(d, zone) != TimeSpan.FromDays(1)).ToList();

    /// <summary>Every event once, shuffled across entities with each entity's own order kept, plus ~10% redeliveries.</summary>
    public List<JsonObject> Delivery() => AtLeastOnceDelivery.Shuffle(_entities, _random);

    /// <summary>Cuts a delivery into batches of random size (1 to <paramref name="maxBatch"/>).</summary>
    public IEnumerable<JsonObject[]> Batches(List<JsonObject> delivery, int maxBatch = 300) => AtLeastOnceDelivery.Batches(delivery, _random, maxBatch);

    /// <summary>
    /// A moment in the 90 days: mostly any second, but 4% exactly at a day's 00:00:00Z and 4% at its 23:59:59Z.
    /// </summary>
    private DateTime RandomInstant()
    {
        var day = FirstDay.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddDays(_random.Next(Days));
        return _random.Next(100) switch
        {
            < 4 => day,
            < 8 => day.AddDays(1).AddSeconds(-1),
            _ => day.AddSeconds(_random.Next(86400)),
        };
    }

    /// <summary>A wire envelope with a reproducible id; 15% of the instants are written with a non-zero offset.</summary>
    private JsonObject Event(string type, JsonObject data, DateTime at)
    {
        var bytes = new byte[16];
        _random.NextBytes(bytes);
        // Publishers may not date events more than 24 hours ahead of the service's clock (the contract's limit): later
        // steps of the last days' orders, which would fall after it, are kept at the end of the last day, in order.
        var latest = LastDay.ToDateTime(new TimeOnly(23, 59, 59), DateTimeKind.Utc);
        var instant = new DateTimeOffset(DateTime.SpecifyKind(at < latest ? at : latest, DateTimeKind.Utc));
        var occurredAt = _random.Next(100) < 15
            ? instant.ToOffset(Pick(Offsets)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture)
            : instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = new Guid(bytes).ToString(),
            ["type"] = type,
            ["occurredAt"] = occurredAt,
            ["data"] = data,
        };
    }

    /// <summary>The same event published again under a new envelope id (not a redelivery: the id differs).</summary>
    private JsonObject Republished(JsonObject envelope)
    {
        var bytes = new byte[16];
        _random.NextBytes(bytes);
        var copy = (JsonObject)envelope.DeepClone();
        copy["id"] = new Guid(bytes).ToString();
        return copy;
    }

    private T Pick<T>(IReadOnlyList<T> values) => values[_random.Next(values.Count)];
}

using System.Text.Json.Nodes;

namespace Projections.Shop;

/// <summary>How big a generated shop is.</summary>
public sealed record ShopSize(string Name, int Users, int Artists, int Products, int Orders, int Carts, int Visitors, int Clicks)
{
    /// <summary>About 100,000 events.</summary>
    public static readonly ShopSize Small = new("small", Users: 5_000, Artists: 200, Products: 3_000, Orders: 12_000, Carts: 6_000, Visitors: 3_000, Clicks: 9_000);

    /// <summary>About 2,000,000 events.</summary>
    public static readonly ShopSize Large = new("large", Users: 100_000, Artists: 1_000, Products: 60_000, Orders: 240_000, Carts: 120_000, Visitors: 60_000, Clicks: 180_000);

    /// <summary>About 10,000,000 events: how cost grows with history (not run in CI; needs several GB of memory).</summary>
    public static readonly ShopSize XLarge = new("xlarge", Users: 560_000, Artists: 5_000, Products: 330_000, Orders: 1_340_000, Carts: 670_000, Visitors: 330_000, Clicks: 1_000_000);

    /// <summary>A marketplace: as many events as small's mix with 100,000 orders, spread over 20,000 artists: how cost
    /// grows with keys (every day and month bucket carries the artists it saw).</summary>
    public static readonly ShopSize Marketplace = new("marketplace", Users: 40_000, Artists: 20_000, Products: 25_000, Orders: 100_000, Carts: 50_000, Visitors: 25_000, Clicks: 75_000);

    /// <summary>A few thousand events: for smoke runs.</summary>
    public static readonly ShopSize Tiny = new("tiny", Users: 300, Artists: 20, Products: 200, Orders: 600, Carts: 300, Visitors: 150, Clicks: 450);

    public static ShopSize Parse(string name) => name.ToLowerInvariant() switch
    {
        "small" => Small,
        "large" => Large,
        "xlarge" => XLarge,
        "marketplace" => Marketplace,
        "tiny" => Tiny,
        _ => throw new ArgumentException($"Unknown size '{name}': small, large, xlarge, marketplace or tiny."),
    };
}

/// <summary>
/// A realistic, deterministic shop: users, artists, products with inventory movements, a year of gallery orders with
/// status changes, carts, referral clicks and artist-store sales, as v1 wire envelopes. The same seed and size give the
/// same envelopes, in the same order. Envelopes come out in time order (each entity's own events in order, entities
/// interleaved), streamed: only the events of recently started entities are held in memory.
/// </summary>
public sealed class ShopGenerator(ShopSize size, int seed = 1)
{
    private static readonly string[] Statuses = ["paid", "processing", "partially_shipped", "shipped", "delivered"];
    private static readonly string[] Currencies = ["USD", "USD", "USD", "EUR", "GBP"];

    public DateTimeOffset Start { get; } = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public int Days => 365;

    public IEnumerable<JsonObject> Envelopes()
    {
        var random = new Random(seed);
        var ids = new Random(~seed);
        var pending = new PriorityQueue<JsonObject, (DateTimeOffset At, long Order)>();
        long order = 0, count = 0;

        // Every entity starts at a random moment of the year; entities are started in time order, so at any moment
        // only those started in the last few weeks have events waiting.
        var starts = new List<(DateTimeOffset At, int Kind, int Index)>();
        void Plan(int kind, int n, int daysFrom = 0)
        {
            for (var i = 0; i < n; i++)
            {
                starts.Add((Start.AddSeconds(random.NextInt64((long)daysFrom * 86400, (long)Days * 86400)), kind, i));
            }
        }

        Plan(0, size.Artists, 0);
        Plan(1, size.Users);
        Plan(2, size.Products);
        Plan(3, size.Orders, 14);
        Plan(4, size.Carts, 14);
        Plan(5, size.Clicks, 14);
        starts.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : (a.Kind, a.Index).CompareTo((b.Kind, b.Index)));

        foreach (var (at, kind, index) in starts)
        {
            while (pending.TryPeek(out _, out var next) && next.At <= at)
            {
                yield return Envelope(pending.Dequeue(), ids, ref count);
            }

            var events = new List<(DateTimeOffset At, string Type, JsonObject Data)>();
            var entity = new EntityEvents(events, at, random);
            switch (kind)
            {
                case 0: Artist(entity, index); break;
                case 1: User(entity, index); break;
                case 2: Product(entity, index); break;
                case 3: Order(entity, index); break;
                case 4: Cart(entity, index); break;
                default: Click(entity, index); break;
            }

            foreach (var (eventAt, type, data) in events)
            {
                pending.Enqueue(new JsonObject { ["type"] = type, ["occurredAt"] = eventAt.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["data"] = data },
                    (eventAt, order++));
            }
        }

        while (pending.Count > 0)
        {
            yield return Envelope(pending.Dequeue(), ids, ref count);
        }
    }

    private static JsonObject Envelope(JsonObject e, Random ids, ref long count)
    {
        count++;
        var id = new byte[16];
        ids.NextBytes(id);
        id[7] = (byte)((id[7] & 0x0F) | 0x40); // a version 4 UUID, drawn from the seed: the same shop has the same ids
        id[8] = (byte)((id[8] & 0x3F) | 0x80);
        var envelope = new JsonObject { ["id"] = new Guid(id).ToString() };
        foreach (var (key, value) in e.ToList())
        {
            e.Remove(key);
            envelope[key] = value;
        }

        return envelope;
    }

    /// <summary>Collects one entity's events, each a little later than the one before.</summary>
    private sealed class EntityEvents(List<(DateTimeOffset, string, JsonObject)> events, DateTimeOffset start, Random random)
    {
        private DateTimeOffset _clock = start;

        public Random Random => random;

        public void Add(string type, JsonObject data, TimeSpan? after = null)
        {
            _clock += after ?? TimeSpan.FromSeconds(random.Next(1, 3 * 86400));
            events.Add((_clock, type, data));
        }
    }

    private static decimal Money(Random random, int min, int max) => random.Next(min * 100, max * 100) / 100m;

    private static void Artist(EntityEvents e, int i)
    {
        e.Add("artist.profile_updated", new() { ["orgId"] = $"org-{i:D5}", ["name"] = $"Studio {i}" }, TimeSpan.Zero);
        if (e.Random.Next(4) == 0)
        {
            e.Add("artist.profile_updated", new() { ["orgId"] = $"org-{i:D5}", ["name"] = $"Studio {i} & Friends" });
        }
    }

    private void User(EntityEvents e, int i)
    {
        var id = $"user-{i:D7}";
        var r = e.Random;
        var role = r.Next(100) switch { < 90 => "customer", < 98 => "staff", _ => "admin" };
        e.Add("user.registered", new() { ["userId"] = id, ["role"] = role, ["emailVerified"] = r.Next(3) == 0 }, TimeSpan.Zero);
        if (r.Next(10) < 7)
        {
            e.Add("user.email_verified", new() { ["userId"] = id });
        }

        if (r.Next(10) < 3)
        {
            e.Add("user.phone_verified", new() { ["userId"] = id });
        }

        switch (r.Next(40))
        {
            case 0: e.Add("user.deactivated", new() { ["userId"] = id }); break;
            case 4: e.Add("user.phone_changed", new() { ["userId"] = id }); break;
            case 5:
                e.Add("user.deactivated", new() { ["userId"] = id });
                e.Add("user.activated", new() { ["userId"] = id });
                break;
            case 1: e.Add("user.email_changed", new() { ["userId"] = id }); break;
            case 2: e.Add("user.role_changed", new() { ["userId"] = id, ["role"] = "staff" }); break;
            case 3: e.Add("user.deleted", new() { ["userId"] = id }); break;
        }
    }

    private void Product(EntityEvents e, int i)
    {
        var id = $"product-{i:D7}";
        var r = e.Random;
        var created = new JsonObject { ["productId"] = id, ["orgId"] = $"org-{r.Next(size.Artists):D5}", ["name"] = $"Work {i}" };
        if (r.Next(10) > 0)
        {
            created["price"] = Money(r, 15, 2_000);
            created["currency"] = Currencies[r.Next(Currencies.Length)];
        }

        e.Add("product.created", created, TimeSpan.Zero);
        switch (r.Next(20))
        {
            case 0: e.Add("product.price_set", new() { ["productId"] = id, ["price"] = Money(r, 15, 2_000) }); break;
            case 1 when created.ContainsKey("price"): e.Add("product.price_removed", new() { ["productId"] = id }); break;
            case 2:
                e.Add("product.deactivated", new() { ["productId"] = id });
                e.Add("product.activated", new() { ["productId"] = id });
                break;
        }

        if (r.Next(5) == 0)
        {
            return; // a product without an inventory record
        }

        e.Add("inventory.stock_set", new() { ["productId"] = id, ["quantity"] = r.Next(0, 40) });
        for (var n = r.Next(2, 9); n > 0; n--)
        {
            var q = r.Next(1, 4);
            switch (r.Next(6))
            {
                case 0: e.Add("inventory.stock_adjusted", new() { ["productId"] = id, ["delta"] = r.Next(2) == 0 ? q * 5 : -q }); break;
                case 1 or 2: e.Add("inventory.reserved", new() { ["productId"] = id, ["quantity"] = q }); break;
                case 3: e.Add("inventory.reservation_released", new() { ["productId"] = id, ["quantity"] = q }); break;
                case 4: e.Add("inventory.reservation_fulfilled", new() { ["productId"] = id, ["quantity"] = q }); break;
                default: e.Add("inventory.low_stock_threshold_set", new() { ["productId"] = id, ["threshold"] = r.Next(2, 10) }); break;
            }
        }

        if (r.Next(30) == 0)
        {
            e.Add(r.Next(2) == 0 ? "product.deactivated" : "product.deleted", new() { ["productId"] = id });
        }
    }

    private void Order(EntityEvents e, int i)
    {
        var id = $"order-{i:D7}";
        var r = e.Random;
        var items = new JsonArray();
        for (var n = r.Next(1, 4); n > 0; n--)
        {
            items.Add(new JsonObject
            {
                ["productId"] = $"product-{r.Next(size.Products):D7}", ["orgId"] = $"org-{r.Next(size.Artists):D5}",
                ["quantity"] = r.Next(1, 4), ["unitPrice"] = Money(r, 15, 600),
            });
        }

        e.Add("order.placed", new() { ["orderId"] = id, ["items"] = items, ["customerId"] = $"user-{r.Next(size.Users):D7}" }, TimeSpan.Zero);
        if (r.Next(12) == 0)
        {
            e.Add("order.status_changed", new() { ["orderId"] = id, ["status"] = "cancelled" });
            return;
        }

        for (var s = 0; s < r.Next(0, Statuses.Length + 1); s++)
        {
            e.Add("order.status_changed", new() { ["orderId"] = id, ["status"] = Statuses[s] });
        }
    }

    private void Cart(EntityEvents e, int i)
    {
        var id = $"cart-{i:D7}";
        var r = e.Random;
        e.Add("cart.created", new() { ["cartId"] = id, ["customerId"] = $"user-{r.Next(size.Users):D7}" }, TimeSpan.Zero);
        for (var n = r.Next(0, 4); n > 0; n--)
        {
            e.Add("cart.item_added", new() { ["cartId"] = id, ["productId"] = $"product-{r.Next(size.Products):D7}", ["quantity"] = r.Next(1, 3),
                ["unitPrice"] = Money(r, 15, 600) }, TimeSpan.FromMinutes(r.Next(1, 120)));
        }

        if (r.Next(5) == 0)
        {
            e.Add("cart.item_removed", new() { ["cartId"] = id, ["productId"] = $"product-{r.Next(size.Products):D7}", ["quantity"] = 1 },
                TimeSpan.FromMinutes(5));
        }

        if (r.Next(3) == 0)
        {
            e.Add("cart.checked_out", new() { ["cartId"] = id, ["orderId"] = $"order-c{i:D7}" }, TimeSpan.FromMinutes(r.Next(5, 60)));
        }
    }

    private void Click(EntityEvents e, int i)
    {
        var r = e.Random;
        var (visitor, org) = ($"visitor-{r.Next(size.Visitors):D6}", $"org-{r.Next(size.Artists):D5}");
        e.Add("referral.clicked", new() { ["referralId"] = $"ref-{i:D7}", ["visitorId"] = visitor, ["orgId"] = org }, TimeSpan.Zero);
        if (r.Next(9) == 0)
        {
            e.Add("artist_store.order_completed", new() { ["orderId"] = $"store-{i:D7}", ["visitorId"] = visitor, ["orgId"] = org,
                ["amount"] = Money(r, 20, 900) }, TimeSpan.FromHours(r.Next(1, 24 * 40)));
        }
    }
}

using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Metrics;

/// <summary>
/// Random users and products with valid v1 events per entity, and a delivery of them as a publisher with
/// at-least-once delivery would make it: entities shuffled against each other (each entity's own events in order),
/// about 10% of events delivered again later, cut into random batches.
/// </summary>
public sealed class RandomShop(int seed)
{
    private static readonly string[] Roles = ["customer", "staff", "admin"];
    private static readonly string[] Currencies = ["USD", "EUR", "GBP"];
    private readonly Random _random = new(seed);
    private readonly List<List<JsonObject>> _entities = [];
    private DateTimeOffset _clock = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public int EventCount => _entities.Sum(e => e.Count);

    public RandomShop WithUsers(int count)
    {
        for (var u = 0; u < count; u++)
        {
            var id = $"u-{seed}-{u}";
            var events = new List<JsonObject>();
            var registered = new JsonObject { ["userId"] = id, ["role"] = Pick(Roles) };
            foreach (var flag in new[] { "active", "emailVerified", "phoneVerified" })
            {
                if (_random.Next(3) > 0)
                {
                    registered[flag] = _random.Next(2) == 0; // absent a third of the time: the contract's defaults apply
                }
            }

            events.Add(Event("user.registered", registered));
            for (var n = _random.Next(0, 12); n > 0; n--)
            {
                var type = Pick(["user.role_changed", "user.activated", "user.deactivated", "user.email_verified", "user.phone_verified",
                    "user.email_changed", "user.phone_changed"]);
                var data = new JsonObject { ["userId"] = id };
                if (type == "user.role_changed")
                {
                    data["role"] = Pick(Roles);
                }

                events.Add(Event(type, data));
            }

            if (_random.Next(100) < 6)
            {
                events.Add(Event("user.deleted", new JsonObject { ["userId"] = id }));
            }

            _entities.Add(events);
        }

        return this;
    }

    public RandomShop WithProducts(int count)
    {
        for (var p = 0; p < count; p++)
        {
            var id = $"p-{seed}-{p}";
            var events = new List<JsonObject>();
            var roll = _random.Next(100);
            // A few products get inventory before their catalogue entry arrives, and a few never get one at all.
            var inventoryFirst = roll < 5;
            var neverCreated = roll is >= 5 and < 8;
            if (inventoryFirst || neverCreated)
            {
                events.Add(InventoryEvent(id));
            }

            if (!neverCreated)
            {
                var created = new JsonObject { ["productId"] = id, ["orgId"] = $"org-{_random.Next(20)}", ["name"] = $"Product {p}" };
                if (_random.Next(4) > 0)
                {
                    created["price"] = Money();
                }

                if (_random.Next(3) > 0)
                {
                    created["currency"] = Pick(Currencies);
                }

                if (_random.Next(3) > 0)
                {
                    created["active"] = _random.Next(4) > 0;
                }

                events.Add(Event("product.created", created));
            }

            for (var n = _random.Next(0, 14); n > 0; n--)
            {
                var kind = _random.Next(10);
                events.Add(kind switch
                {
                    0 => Event("product.price_set", _random.Next(2) == 0
                        ? new JsonObject { ["productId"] = id, ["price"] = Money() }
                        : new JsonObject { ["productId"] = id, ["price"] = Money(), ["currency"] = Pick(Currencies) }),
                    1 => Event(Pick(["product.price_removed", "product.activated", "product.deactivated"]), new JsonObject { ["productId"] = id }),
                    _ => InventoryEvent(id),
                });
            }

            if (_random.Next(100) < 5)
            {
                events.Add(Event("product.deleted", new JsonObject { ["productId"] = id }));
            }

            _entities.Add(events);
        }

        return this;
    }

    private JsonObject InventoryEvent(string id) => _random.Next(6) switch
    {
        0 => Event("inventory.stock_set", new JsonObject { ["productId"] = id, ["quantity"] = _random.Next(0, 60) }),
        1 => Event("inventory.stock_adjusted", new JsonObject { ["productId"] = id, ["delta"] = _random.Next(2) == 0 ? _random.Next(1, 20) : -_random.Next(1, 20) }),
        2 => Event("inventory.reserved", new JsonObject { ["productId"] = id, ["quantity"] = _random.Next(1, 10) }),
        3 => Event("inventory.reservation_released", new JsonObject { ["productId"] = id, ["quantity"] = _random.Next(1, 10) }),
        4 => Event("inventory.reservation_fulfilled", new JsonObject { ["productId"] = id, ["quantity"] = _random.Next(1, 10) }),
        _ => Event("inventory.low_stock_threshold_set", new JsonObject { ["productId"] = id, ["threshold"] = _random.Next(0, 10) }),
    };

    /// <summary>Every event once, shuffled across entities with each entity's own order kept, plus ~10% redeliveries.</summary>
    public List<JsonObject> Delivery() => AtLeastOnceDelivery.Shuffle(_entities, _random);

    /// <summary>Cuts a delivery into batches of random size (1 to <paramref name="maxBatch"/>).</summary>
    public IEnumerable<JsonObject[]> Batches(List<JsonObject> delivery, int maxBatch = 300) => AtLeastOnceDelivery.Batches(delivery, _random, maxBatch);

    private JsonObject Event(string type, JsonObject data)
    {
        _clock = _clock.AddSeconds(_random.Next(1, 600));
        return Envelopes.Of(type, data, _clock);
    }

    private decimal Money() => _random.Next(0, 500_000) / 100m;

    private string Pick(string[] values) => values[_random.Next(values.Length)];
}

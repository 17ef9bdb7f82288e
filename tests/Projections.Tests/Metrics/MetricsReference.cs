using System.Text.Json;
using System.Text.Json.Nodes;

namespace Projections.Tests.Metrics;

/// <summary>
/// An independent, deliberately plain computation of the Metrics API from the delivered envelopes, straight from the
/// contract's definitions (shared/contract/events-v1.md): drop redelivered ids, replay each entity's events in order,
/// then count and sum over the final states. It shares no code with the service.
/// </summary>
public static class MetricsReference
{
    private sealed class User
    {
        public bool Registered, Deleted, Active, Email, Phone;
        public string Role = "";
    }

    private sealed class Product
    {
        public bool Created, Deleted, Active, HasInventory;
        public decimal? Price;
        public string Currency = "USD";
        public long Stock, Reserved;
        public int? Threshold;
    }

    public sealed record Expected(Dictionary<string, decimal> Fields, Dictionary<string, Dictionary<string, decimal>> RevenueByCurrency);

    public static Expected Admin(IEnumerable<JsonObject> delivered, bool activeOnly, int defaultThreshold = 5)
    {
        var (users, products) = Replay(delivered);
        var fields = UserFields(users);
        var inventory = Inventory(products, activeOnly, defaultThreshold);
        foreach (var (k, v) in inventory.Fields)
        {
            fields[k] = v;
        }

        return inventory with { Fields = fields };
    }

    public static Expected Staff(IEnumerable<JsonObject> delivered)
    {
        var users = UserFields(Replay(delivered).Users);
        var fields = new[] { "total_customers", "active_customers", "inactive_customers", "customers_email_verified", "customers_phone_verified" }
            .ToDictionary(f => f, f => users[f]);
        return new Expected(fields, []);
    }

    public static Expected InventoryOnly(IEnumerable<JsonObject> delivered, bool activeOnly, int defaultThreshold = 5) =>
        Inventory(Replay(delivered).Products, activeOnly, defaultThreshold);

    private static (Dictionary<string, User> Users, Dictionary<string, Product> Products) Replay(IEnumerable<JsonObject> delivered)
    {
        var users = new Dictionary<string, User>();
        var products = new Dictionary<string, Product>();
        var seen = new HashSet<Guid>();
        foreach (var envelope in delivered)
        {
            if (!seen.Add(Guid.Parse((string)envelope["id"]!)))
            {
                continue;
            }

            var type = (string)envelope["type"]!;
            var data = envelope["data"]!.AsObject();
            if (type.StartsWith("user.", StringComparison.Ordinal))
            {
                var id = (string)data["userId"]!;
                var u = users.TryGetValue(id, out var existing) ? existing : users[id] = new User();
                switch (type)
                {
                    case "user.registered":
                        u.Registered = true;
                        u.Deleted = false;
                        u.Role = (string)data["role"]!;
                        u.Active = (bool?)data["active"] ?? true;
                        u.Email = (bool?)data["emailVerified"] ?? false;
                        u.Phone = (bool?)data["phoneVerified"] ?? false;
                        break;
                    case "user.role_changed": u.Role = (string)data["role"]!; break;
                    case "user.activated": u.Active = true; break;
                    case "user.deactivated": u.Active = false; break;
                    case "user.email_verified": u.Email = true; break;
                    case "user.phone_verified": u.Phone = true; break;
                    case "user.email_changed": u.Email = false; break;
                    case "user.phone_changed": u.Phone = false; break;
                    case "user.deleted": u.Deleted = true; break;
                }
            }
            else if (type.StartsWith("product.", StringComparison.Ordinal) || type.StartsWith("inventory.", StringComparison.Ordinal))
            {
                var id = (string)data["productId"]!;
                var p = products.TryGetValue(id, out var existing) ? existing : products[id] = new Product();
                if (type.StartsWith("inventory.", StringComparison.Ordinal))
                {
                    p.HasInventory = true;
                }

                switch (type)
                {
                    case "product.created":
                        p.Created = true;
                        p.Deleted = false;
                        p.Active = (bool?)data["active"] ?? true;
                        p.Price = (decimal?)data["price"];
                        p.Currency = ((string?)data["currency"] ?? "USD").ToUpperInvariant();
                        break;
                    case "product.price_set":
                        p.Price = (decimal)data["price"]!;
                        p.Currency = ((string?)data["currency"] ?? "USD").ToUpperInvariant();
                        break;
                    case "product.price_removed": p.Price = null; break;
                    case "product.activated": p.Active = true; break;
                    case "product.deactivated": p.Active = false; break;
                    case "product.deleted": p.Deleted = true; break;
                    case "inventory.stock_set": p.Stock = (int)data["quantity"]!; break;
                    case "inventory.stock_adjusted": p.Stock += (int)data["delta"]!; break;
                    case "inventory.reserved": p.Reserved += (int)data["quantity"]!; break;
                    case "inventory.reservation_released": p.Reserved = Math.Max(0, p.Reserved - (int)data["quantity"]!); break;
                    case "inventory.reservation_fulfilled":
                        p.Stock -= (int)data["quantity"]!;
                        p.Reserved = Math.Max(0, p.Reserved - (int)data["quantity"]!);
                        break;
                    case "inventory.low_stock_threshold_set": p.Threshold = (int)data["threshold"]!; break;
                }
            }
        }

        return (users, products);
    }

    private static Dictionary<string, decimal> UserFields(Dictionary<string, User> users)
    {
        var counted = users.Values.Where(u => u.Registered && !u.Deleted).ToList();
        var fields = new Dictionary<string, decimal>();
        foreach (var (role, plural) in new[] { ("customer", "customers"), ("staff", "staff"), ("admin", "admins") })
        {
            var ofRole = counted.Where(u => u.Role == role).ToList();
            fields[$"total_{plural}"] = ofRole.Count;
            fields[$"active_{plural}"] = ofRole.Count(u => u.Active);
            fields[$"inactive_{plural}"] = ofRole.Count(u => !u.Active);
            fields[$"{plural}_email_verified"] = ofRole.Count(u => u.Email);
            fields[$"{plural}_phone_verified"] = ofRole.Count(u => u.Phone);
        }

        return fields;
    }

    private static Expected Inventory(Dictionary<string, Product> products, bool activeOnly, int defaultThreshold)
    {
        var counted = products.Values.Where(p => p.Created && !p.Deleted && (!activeOnly || p.Active)).ToList();
        var withInventory = counted.Where(p => p.HasInventory).ToList();
        var priced = withInventory.Where(p => p.Price is not null).ToList();
        var fields = new Dictionary<string, decimal>
        {
            ["total_products"] = counted.Count,
            ["total_products_with_inventory"] = withInventory.Count,
            ["total_products_with_pricing"] = counted.Count(p => p.Price is not null),
            ["total_stock_quantity"] = withInventory.Sum(p => p.Stock),
            ["total_reserved_quantity"] = withInventory.Sum(p => p.Reserved),
            ["total_available_quantity"] = withInventory.Sum(p => p.Stock - p.Reserved),
            ["products_in_stock"] = withInventory.Count(p => p.Stock - p.Reserved > 0),
            ["products_low_stock"] = withInventory.Count(p => p.Stock - p.Reserved > 0 && p.Stock - p.Reserved <= (p.Threshold ?? defaultThreshold)),
            ["products_out_of_stock"] = withInventory.Count(p => p.Stock - p.Reserved <= 0),
            ["total_inventory_revenue"] = priced.Sum(p => p.Stock * p.Price!.Value),
            ["reserved_inventory_revenue"] = priced.Sum(p => p.Reserved * p.Price!.Value),
            ["available_inventory_revenue"] = priced.Sum(p => (p.Stock - p.Reserved) * p.Price!.Value),
        };
        var byCurrency = priced.GroupBy(p => p.Currency).ToDictionary(g => g.Key, g => new Dictionary<string, decimal>
        {
            ["total_inventory_revenue"] = g.Sum(p => p.Stock * p.Price!.Value),
            ["reserved_inventory_revenue"] = g.Sum(p => p.Reserved * p.Price!.Value),
            ["available_inventory_revenue"] = g.Sum(p => (p.Stock - p.Reserved) * p.Price!.Value),
        });
        return new Expected(fields, byCurrency);
    }

    /// <summary>Exactly the expected fields, each a JSON number with exactly the expected value.</summary>
    public static void AssertMatches(MetricsReference.Expected expected, JsonElement actual)
    {
        var names = actual.EnumerateObject().Select(p => p.Name).Where(n => n != "inventory_revenue_by_currency").ToHashSet();
        Assert.Equal(expected.Fields.Keys.Order(), names.Order());
        foreach (var (field, value) in expected.Fields)
        {
            var element = actual.GetProperty(field);
            Assert.Equal(JsonValueKind.Number, element.ValueKind);
            Assert.True(value == element.GetDecimal(), $"{field}: expected {value}, got {element}");
        }

        if (!actual.TryGetProperty("inventory_revenue_by_currency", out var byCurrency))
        {
            Assert.Empty(expected.RevenueByCurrency);
            return;
        }

        Assert.Equal(expected.RevenueByCurrency.Keys.Order(), byCurrency.EnumerateObject().Select(p => p.Name).Order());
        foreach (var (currency, fields) in expected.RevenueByCurrency)
        {
            foreach (var (field, value) in fields)
            {
                var element = byCurrency.GetProperty(currency).GetProperty(field);
                Assert.True(value == element.GetDecimal(), $"{currency} {field}: expected {value}, got {element}");
            }
        }
    }
}

// Sample/: the deterministic sample data set of ops/start and its publisher command. Uses Auth and Hosting.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Projections.Sample;

/// <summary>
/// A deterministic sample shop, as wire envelopes (the v1 contract). Its users and its active products give exactly the
/// Metrics API seed's sample figures (45 customers, 120 products, 1,850,000.00 of inventory revenue, ...); inactive and
/// deleted products around them make the <c>active_only=false</c> view differ. A January 2024 of gallery orders, carts,
/// artist profiles and referrals feeds the Admin Analytics API. Every event type of the user and
/// product contract is used on the way there. Ids are derived from names, so publishing it twice stores it once.
/// </summary>
public static class SampleData
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 9, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<JsonObject> Envelopes()
    {
        var builder = new Builder();
        AddUsers(builder);
        AddProducts(builder);
        AddGallery(builder);
        return builder.Envelopes;
    }

    private static void AddUsers(Builder b)
    {
        // role, how many, how many inactive, email verified, phone verified (the seed's figures)
        (string Role, int Count, int Inactive, int Email, int Phone)[] roles =
            [("customer", 45, 3, 38, 12), ("staff", 8, 1, 7, 6), ("admin", 2, 0, 2, 2)];
        foreach (var (role, count, inactive, email, phone) in roles)
        {
            for (var k = 0; k < count; k++)
            {
                var id = $"{role}-{k + 1:D3}";
                var (active, emailVerified, phoneVerified) = (k < count - inactive, k < email, k < phone);
                // Some customers start as staff and are moved, to exercise role changes.
                var firstRole = role == "customer" && k % 7 == 0 ? "staff" : role;
                b.Add("user.registered", new() { ["userId"] = id, ["role"] = firstRole, ["phoneVerified"] = phoneVerified && k % 5 == 0 });
                if (firstRole != role)
                {
                    b.Add("user.role_changed", new() { ["userId"] = id, ["role"] = role });
                }

                if (emailVerified)
                {
                    if (k % 4 == 0)
                    {
                        b.Add("user.email_verified", new() { ["userId"] = id });
                        b.Add("user.email_changed", new() { ["userId"] = id });
                    }

                    b.Add("user.email_verified", new() { ["userId"] = id });
                }
                else if (k % 2 == 0)
                {
                    b.Add("user.phone_changed", new() { ["userId"] = id });
                }

                if (phoneVerified && k % 5 != 0)
                {
                    b.Add("user.phone_verified", new() { ["userId"] = id });
                }

                if (!active)
                {
                    b.Add("user.deactivated", new() { ["userId"] = id });
                }
                else if (k % 6 == 0)
                {
                    b.Add("user.deactivated", new() { ["userId"] = id });
                    b.Add("user.activated", new() { ["userId"] = id });
                }
            }
        }

        // Deleted users count nowhere.
        for (var k = 0; k < 3; k++)
        {
            var id = $"deleted-user-{k + 1}";
            b.Add("user.registered", new() { ["userId"] = id, ["role"] = k == 0 ? "admin" : "customer", ["emailVerified"] = true });
            b.Add("user.deleted", new() { ["userId"] = id });
        }
    }

    private static void AddProducts(Builder b)
    {
        // 120 active products: 95 with inventory (88 in stock, of which 5 low; 7 out of stock), 110 with a price.
        for (var p = 0; p < 120; p++)
        {
            var id = $"prod-{p + 1:D3}";
            var org = $"org-{p % 12 + 1:D2}";
            JsonObject Product(JsonObject data)
            {
                data["productId"] = id;
                return data;
            }

            switch (p)
            {
                case < 3: // out of stock: counted at zero
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Print {p}", ["price"] = 750 }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 0 }));
                    break;
                case < 5: // out of stock: written off
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Print {p}", ["price"] = 750.00m }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 5 }));
                    b.Add("inventory.stock_adjusted", Product(new() { ["delta"] = -5 }));
                    break;
                case < 7: // out of stock: everything reserved was shipped
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Print {p}", ["price"] = 750 }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 3 }));
                    b.Add("inventory.reserved", Product(new() { ["quantity"] = 3 }));
                    b.Add("inventory.reservation_fulfilled", Product(new() { ["quantity"] = 3 }));
                    break;
                case < 12: // low stock: 3 available, at or under the threshold
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Vase {p}", ["price"] = 750 }));
                    if (p == 8)
                    {
                        b.Add("inventory.stock_set", Product(new() { ["quantity"] = 10 }));
                        b.Add("inventory.stock_adjusted", Product(new() { ["delta"] = -7 }));
                    }
                    else
                    {
                        b.Add("inventory.stock_set", Product(new() { ["quantity"] = 3 }));
                    }

                    if (p == 9)
                    {
                        b.Add("inventory.low_stock_threshold_set", Product(new() { ["threshold"] = 3 }));
                    }

                    break;
                case 12: // the one product priced in euros
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = "Sculpture", ["price"] = 1250, ["currency"] = "EUR" }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 25 }));
                    break;
                case < 31: // 18 products with 30 on hand, 10 of them reserved
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Bowl {p}", ["price"] = 750 }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 35 }));
                    b.Add("inventory.reserved", Product(new() { ["quantity"] = 17 }));
                    b.Add("inventory.reservation_released", Product(new() { ["quantity"] = 2 }));
                    b.Add("inventory.reservation_fulfilled", Product(new() { ["quantity"] = 5 }));
                    break;
                case < 94: // 63 products with 29 on hand, priced in several ways
                    if (p % 3 == 0)
                    {
                        b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Painting {p}" }));
                        b.Add("product.price_set", Product(new() { ["price"] = 750, ["currency"] = "USD" }));
                    }
                    else if (p % 3 == 1)
                    {
                        b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Painting {p}", ["price"] = 500, ["active"] = false }));
                        b.Add("product.price_set", Product(new() { ["price"] = 750 }));
                        b.Add("product.activated", Product(new()));
                    }
                    else
                    {
                        b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Painting {p}", ["price"] = 750, ["currency"] = "USD" }));
                    }

                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 20 }));
                    b.Add("inventory.stock_adjusted", Product(new() { ["delta"] = 9 }));
                    if (p == 31)
                    {
                        b.Add("inventory.low_stock_threshold_set", Product(new() { ["threshold"] = 2 }));
                    }

                    break;
                case 94:
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = "Tapestry", ["price"] = 750 }));
                    b.Add("inventory.stock_set", Product(new() { ["quantity"] = 43 }));
                    break;
                case < 110: // priced, no inventory record
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Card {p}", ["price"] = 20 }));
                    break;
                default: // neither price nor inventory
                    b.Add("product.created", Product(new() { ["orgId"] = org, ["name"] = $"Commission {p}", ["price"] = 99.99m }));
                    b.Add("product.price_removed", Product(new()));
                    break;
            }
        }

        // Six inactive products: only in the active_only=false view.
        for (var p = 0; p < 6; p++)
        {
            var id = $"retired-{p + 1}";
            b.Add("product.created", new() { ["productId"] = id, ["orgId"] = "org-01", ["name"] = $"Retired {p}", ["price"] = 40.5m, ["currency"] = p < 2 ? "GBP" : "USD" });
            b.Add("inventory.stock_set", new() { ["productId"] = id, ["quantity"] = 12 });
            b.Add("inventory.reserved", new() { ["productId"] = id, ["quantity"] = 2 });
            b.Add("product.deactivated", new() { ["productId"] = id });
        }

        // Four deleted products: in no view.
        for (var p = 0; p < 4; p++)
        {
            var id = $"deleted-{p + 1}";
            b.Add("product.created", new() { ["productId"] = id, ["orgId"] = "org-02", ["name"] = $"Gone {p}", ["price"] = 10 });
            b.Add("inventory.stock_set", new() { ["productId"] = id, ["quantity"] = 7 });
            b.Add("product.deleted", new() { ["productId"] = id });
        }
    }

    /// <summary>January 2024 in the gallery (the Analytics API's example range): artists, orders, carts, referrals.</summary>
    private static void AddGallery(Builder b)
    {
        var random = new Random(2024);
        var january = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] names = ["Jane Smith Studio", "Bob's Pottery", "Lumen Glassworks", "Atelier Nord", "Kiln & Co", "Paper Moon Prints",
            "Ferro Forge", "Indigo Threads", "Stone Garden", "Vela Ceramics", "Oak & Ash", "Quiet Hours Press"];
        for (var a = 0; a < names.Length; a++)
        {
            b.Add("artist.profile_updated", new() { ["orgId"] = $"org-{a + 1:D2}", ["name"] = names[a] }, january.AddHours(a));
        }

        string[] statuses = ["paid", "processing", "partially_shipped", "shipped", "shipped", "delivered", "cancelled"];
        for (var o = 0; o < 80; o++)
        {
            var placed = january.AddDays(random.Next(31)).AddMinutes(random.Next(24 * 60));
            var items = new System.Text.Json.Nodes.JsonArray();
            for (var i = random.Next(1, 4); i > 0; i--)
            {
                var org = random.Next(names.Length);
                items.Add(new JsonObject
                {
                    ["productId"] = $"prod-{org * 9 + i:D3}", ["orgId"] = $"org-{org + 1:D2}",
                    ["quantity"] = random.Next(1, 4), ["unitPrice"] = random.Next(20, 400) + random.Next(100) / 100m,
                });
            }

            var orderId = $"order-{o + 1:D4}";
            b.Add("order.placed", new() { ["orderId"] = orderId, ["items"] = items, ["customerId"] = $"customer-{o % 45 + 1:D3}" }, placed);
            for (var s = 0; s < random.Next(0, 3); s++)
            {
                b.Add("order.status_changed", new() { ["orderId"] = orderId, ["status"] = statuses[random.Next(statuses.Length)] },
                    placed.AddHours(6 * (s + 1)));
            }
        }

        for (var c = 0; c < 50; c++)
        {
            var created = january.AddDays(random.Next(31)).AddMinutes(random.Next(24 * 60));
            var cartId = $"cart-{c + 1:D4}";
            b.Add("cart.created", new() { ["cartId"] = cartId, ["customerId"] = $"customer-{c % 45 + 1:D3}" }, created);
            for (var i = random.Next(0, 4); i > 0; i--)
            {
                b.Add("cart.item_added", new() { ["cartId"] = cartId, ["productId"] = $"prod-{random.Next(1, 95):D3}", ["quantity"] = random.Next(1, 3),
                    ["unitPrice"] = random.Next(20, 300) }, created.AddMinutes(i));
            }

            if (c % 3 == 0)
            {
                b.Add("cart.checked_out", new() { ["cartId"] = cartId, ["orderId"] = $"order-{c + 1:D4}" }, created.AddHours(1));
            }
        }

        for (var r = 0; r < 120; r++)
        {
            var (visitor, org) = ($"visitor-{random.Next(60):D3}", $"org-{random.Next(names.Length) + 1:D2}");
            var clicked = january.AddDays(random.Next(31)).AddMinutes(random.Next(24 * 60));
            b.Add("referral.clicked", new() { ["referralId"] = $"ref-{r + 1:D4}", ["visitorId"] = visitor, ["orgId"] = org }, clicked);
            if (r % 4 == 0)
            {
                b.Add("artist_store.order_completed", new() { ["orderId"] = $"store-{r + 1:D4}", ["visitorId"] = visitor, ["orgId"] = org,
                    ["amount"] = random.Next(30, 500) + 0.99m }, clicked.AddDays(random.Next(0, 10)));
            }
        }
    }

    private sealed class Builder
    {
        public List<JsonObject> Envelopes { get; } = [];

        public void Add(string type, JsonObject data, DateTimeOffset? occurredAt = null) => Envelopes.Add(new JsonObject
        {
            ["id"] = DeterministicId($"sample:{Envelopes.Count}").ToString(),
            ["type"] = type,
            ["occurredAt"] = (occurredAt ?? Start.AddMinutes(Envelopes.Count)).ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["data"] = data,
        });
    }

    /// <summary>A stable UUID for a name (so the same sample envelope always has the same id).</summary>
    public static Guid DeterministicId(string name)
    {
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x30); // version 3 (name-based)
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash, bigEndian: true);
    }
}

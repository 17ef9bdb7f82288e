using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Projections.OpenApi;

/// <summary>
/// Example bodies of the read routes: what the service answers on its sample data set (<c>ops/start</c>, whose Metrics
/// figures are the seed's documented sample), copied from real answers. OpenApiTests checks each against its schema.
/// </summary>
internal static class ApiExamples
{
    private const string Summary = "The sample data set (ops/start)";

    /// <summary>The examples of a read route's JSON body, by the component id of its schema.</summary>
    public static Dictionary<string, IOpenApiExample>? For(string schema) => schema switch
    {
        ApiSchemas.AdminDashboard => Sample(Merge(UserCounts, Inventory)),
        ApiSchemas.StaffDashboard => Sample(Pick(UserCounts, "total_customers", "active_customers", "inactive_customers",
            "customers_email_verified", "customers_phone_verified")),
        ApiSchemas.InventoryMetrics => Sample(JsonNode.Parse(Inventory)),
        ApiSchemas.AnalyticsResponse => Sample(JsonNode.Parse(Analytics), "The sample data set (ops/start), start_date=2024-01-01&end_date=2024-01-02"),
        _ => null,
    };

    private static Dictionary<string, IOpenApiExample> Sample(JsonNode? value, string summary = Summary) =>
        new(StringComparer.Ordinal) { ["sample"] = new OpenApiExample { Summary = summary, Value = value } };

    /// <summary>The admin dashboard's body: the user counts, then the inventory fields.</summary>
    private static JsonObject Merge(string first, string second)
    {
        var merged = JsonNode.Parse(first)!.AsObject();
        foreach (var (name, value) in JsonNode.Parse(second)!.AsObject())
        {
            merged[name] = value?.DeepClone();
        }

        return merged;
    }

    private static JsonObject Pick(string json, params string[] names)
    {
        var all = JsonNode.Parse(json)!.AsObject();
        return new JsonObject(names.Select(n => KeyValuePair.Create(n, all[n]?.DeepClone())));
    }

    private const string UserCounts = """
        {
          "total_customers": 45, "total_staff": 8, "total_admins": 2,
          "active_customers": 42, "inactive_customers": 3, "active_staff": 7, "inactive_staff": 1, "active_admins": 2, "inactive_admins": 0,
          "customers_email_verified": 38, "customers_phone_verified": 12, "staff_email_verified": 7, "staff_phone_verified": 6,
          "admins_email_verified": 2, "admins_phone_verified": 2
        }
        """;

    private const string Inventory = """
        {
          "total_products": 120, "total_products_with_inventory": 95, "total_products_with_pricing": 110,
          "total_stock_quantity": 2450, "total_reserved_quantity": 180, "total_available_quantity": 2270,
          "products_in_stock": 88, "products_low_stock": 5, "products_out_of_stock": 7,
          "total_inventory_revenue": 1850000.00, "reserved_inventory_revenue": 135000.00, "available_inventory_revenue": 1715000.00,
          "inventory_revenue_by_currency": {
            "EUR": {"total_inventory_revenue": 31250.00, "reserved_inventory_revenue": 0.00, "available_inventory_revenue": 31250.00},
            "USD": {"total_inventory_revenue": 1818750.00, "reserved_inventory_revenue": 135000.00, "available_inventory_revenue": 1683750.00}
          }
        }
        """;

    private const string Analytics = """
        {
          "analytics": {
            "overview": {"totalOrders": 7, "totalRevenue": 6769.34, "galleryRevenue": 812.32, "artistPayouts": 5957.02, "averageOrderValue": 967.05, "totalItemsSold": 29},
            "ordersByStatus": {"pending": 3, "paid": 1, "processing": 0, "partially_shipped": 1, "shipped": 2, "delivered": 0, "cancelled": 1},
            "topArtists": [
              {"orgId": "org-12", "artistName": "Quiet Hours Press", "totalOrders": 2, "totalRevenue": 2263.78, "artistPayout": 1992.13, "itemsSold": 9},
              {"orgId": "org-09", "artistName": "Stone Garden", "totalOrders": 3, "totalRevenue": 2055.19, "artistPayout": 1808.57, "itemsSold": 7},
              {"orgId": "org-07", "artistName": "Ferro Forge", "totalOrders": 1, "totalRevenue": 773.34, "artistPayout": 680.54, "itemsSold": 3},
              {"orgId": "org-03", "artistName": "Lumen Glassworks", "totalOrders": 1, "totalRevenue": 611.55, "artistPayout": 538.16, "itemsSold": 3},
              {"orgId": "org-08", "artistName": "Indigo Threads", "totalOrders": 1, "totalRevenue": 500.16, "artistPayout": 440.14, "itemsSold": 3},
              {"orgId": "org-06", "artistName": "Paper Moon Prints", "totalOrders": 1, "totalRevenue": 398.70, "artistPayout": 350.86, "itemsSold": 2},
              {"orgId": "org-11", "artistName": "Oak & Ash", "totalOrders": 1, "totalRevenue": 114.95, "artistPayout": 101.16, "itemsSold": 1},
              {"orgId": "org-04", "artistName": "Atelier Nord", "totalOrders": 1, "totalRevenue": 51.67, "artistPayout": 45.47, "itemsSold": 1}
            ],
            "cartMetrics": {"activeCarts": 4, "averageCartValue": 505.75, "abandonmentRate": 50.00, "averageItemsPerCart": 2.25},
            "referralMetrics": {"totalReferrals": 9, "conversions": 4, "conversionRate": 44.44, "attributedRevenue": 914.96},
            "timeline": [
              {"date": "2024-01-01", "orders": 5, "revenue": 5047.92, "newCarts": 2},
              {"date": "2024-01-02", "orders": 2, "revenue": 1721.42, "newCarts": 2}
            ],
            "dateRange": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T23:59:59Z"}
          }
        }
        """;
}

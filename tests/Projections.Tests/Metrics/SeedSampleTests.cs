using System.Text.Json;
using Projections.Sample;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Metrics;

/// <summary>The sample data set reproduces the Metrics API seed's sample responses (shared/seeds/000), field by field.</summary>
public sealed class SeedSampleTests(AppFixture app) : AppTest(app)
{
    // The seed's three sample outputs, verbatim.
    private const string AdminSample = """
        {
        "total_customers": 45, "total_staff": 8, "total_admins": 2,
        "active_customers": 42, "inactive_customers": 3, "active_staff": 7, "inactive_staff": 1, "active_admins": 2, "inactive_admins": 0,
        "customers_email_verified": 38, "customers_phone_verified": 12, "staff_email_verified": 7, "staff_phone_verified": 6,
        "admins_email_verified": 2, "admins_phone_verified": 2,
        "total_products": 120, "total_products_with_inventory": 95, "total_products_with_pricing": 110,
        "total_stock_quantity": 2450, "total_reserved_quantity": 180, "total_available_quantity": 2270,
        "products_in_stock": 88, "products_low_stock": 5, "products_out_of_stock": 7,
        "total_inventory_revenue": 1850000.0, "reserved_inventory_revenue": 135000.0, "available_inventory_revenue": 1715000.0
        }
        """;

    private const string InventorySample = """
        {
        "total_products": 120, "total_products_with_inventory": 95, "total_products_with_pricing": 110,
        "total_stock_quantity": 2450, "total_reserved_quantity": 180, "total_available_quantity": 2270,
        "products_in_stock": 88, "products_low_stock": 5, "products_out_of_stock": 7,
        "total_inventory_revenue": 1850000.0, "reserved_inventory_revenue": 135000.0, "available_inventory_revenue": 1715000.0
        }
        """;

    private const string StaffSample = """
        { "total_customers": 45, "active_customers": 42, "inactive_customers": 3, "customers_email_verified": 38, "customers_phone_verified": 12 }
        """;

    [Fact]
    public async Task Sample_data_reproduces_the_seed_responses()
    {
        var (last, accepted, duplicates) = await App.PublishAllAsync(SampleData.Envelopes());
        Assert.Equal(SampleData.Envelopes().Count, accepted);
        Assert.Equal(0, duplicates);

        AssertMatchesSeed(AdminSample, await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={last}"));
        AssertMatchesSeed(InventorySample, await App.GetJsonAsync($"/metrics/inventory?min_sequence={last}",
            TestTokens.For("staff", "manage_inventory")));
        AssertMatchesSeed(StaffSample, await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}",
            TestTokens.For("staff", "view_customers")));
    }

    [Fact]
    public async Task Publishing_the_sample_twice_changes_nothing()
    {
        var envelopes = SampleData.Envelopes();
        await App.PublishAllAsync(envelopes);
        var again = await App.PublishAllAsync(envelopes);
        Assert.Equal((0, envelopes.Count), (again.Accepted, again.Duplicates));

        AssertMatchesSeed(AdminSample, await App.GetJsonAsync($"/metrics/admin-dashboard?min_sequence={again.LastSequence}"));
    }

    /// <summary>Every field of the seed is present with the same number; the service may add fields of its own.</summary>
    private static void AssertMatchesSeed(string seed, JsonElement actual)
    {
        using var expected = JsonDocument.Parse(seed);
        foreach (var field in expected.RootElement.EnumerateObject())
        {
            Assert.True(actual.TryGetProperty(field.Name, out var value), $"missing field {field.Name}");
            Assert.Equal(JsonValueKind.Number, value.ValueKind);
            Assert.True(field.Value.GetDecimal() == value.GetDecimal(), $"{field.Name}: expected {field.Value}, got {value}");
        }
    }
}

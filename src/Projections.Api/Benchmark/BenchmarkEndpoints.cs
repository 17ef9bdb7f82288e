// Benchmark/: routes for ops/bench only (Benchmark:Enabled): the in-service constant and the SQL baseline. Uses
// ReadModels, Analytics, Users, Inventory, Hosting and Auth.
using System.Globalization;
using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using Projections.Analytics;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Benchmark;

/// <summary>
/// Routes for the benchmark only (<c>Benchmark:Enabled=true</c>): constant bytes behind the service's whole pipeline
/// (the in-service constant; the bare ceiling is a process of its own, ops/Projections.Bench.Bare) and the
/// baseline a dashboard would otherwise get, answers aggregated by SQL over per-entity data on every request, as the
/// original services did. Never mapped in normal operation.
/// </summary>
/// <summary>The <c>Benchmark</c> configuration section.</summary>
public sealed class BenchmarkSettings : ISettings
{
    public static string Section => "Benchmark";

    /// <summary>Map the benchmark's routes: for <c>ops/bench</c> only.</summary>
    public bool Enabled { get; set; }

    public IEnumerable<string> Problems(IHostEnvironment environment) => [];
}

public static class BenchmarkEndpoints
{
    private static readonly byte[] Constant = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(
        Enumerable.Range(0, 27).ToDictionary(i => $"constant_field_number_{i:D2}", i => 1_000_000.00m + i)));

    public static IEndpointRouteBuilder MapBenchmark(this IEndpointRouteBuilder app, IConfiguration configuration)
    {
        if (!SettingsSetup.Read<BenchmarkSettings>(configuration).Enabled)
        {
            return app;
        }

        // The baseline queries on connections of their own, with the server's planner settings: what the original
        // services got, not the service's tuning for its own queries (ReadModels/SessionDefaults).
        // The service's role defaults apply to every session: these put the server's built-in values back.
        const string serverPlanner = "select set_config(name, boot_val, false) from pg_settings " +
                                     "where name in ('random_page_cost', 'max_parallel_workers_per_gather')";
        var baseline = new NpgsqlDataSourceBuilder(configuration.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set."))
            .UsePhysicalConnectionInitializer(
                connection => { using var command = new NpgsqlCommand(serverPlanner, connection); command.ExecuteNonQuery(); },
                async connection => { await using var command = new NpgsqlCommand(serverPlanner, connection); await command.ExecuteNonQueryAsync(); })
            .Build();
        var bench = app.MapGroup("/bench").WithTags("Benchmark");
        bench.MapGet("/constant", () => Results.Bytes(Constant, "application/json")).AllowAnonymous();
        bench.MapGet("/baseline/admin-dashboard", (ProjectionProgress progress, IOptions<ProjectionSettings> settings,
            [FromQuery(Name = "active_only")] string? activeOnly, CancellationToken ct) =>
            AdminDashboard(baseline, progress, settings.Value.LowStockThreshold, activeOnly, ct)).RequireAuthorization(AuthSetup.AdminOnly);
        bench.MapGet("/baseline/analytics", (ProjectionProgress progress, TimeProvider clock, [FromQuery(Name = "start_date")] string? startDate,
            [FromQuery(Name = "end_date")] string? endDate, CancellationToken ct) =>
            Analytics(baseline, progress, clock, startDate, endDate, ct)).RequireAuthorization(AuthSetup.AdminOnly);
        return app;
    }

    private static async Task<IResult> AdminDashboard(NpgsqlDataSource database, ProjectionProgress progress, int defaultThreshold, string? activeOnly,
        CancellationToken ct)
    {
        var active = activeOnly is null or "1" or "true" or "yes";
        var users = MartenTables.BaselineUsers(typeof(Users.UserState), progress.ActiveSlot(Users.UserMetricsProjection.ProjectionName));
        var products = MartenTables.BaselineProducts(typeof(Inventory.ProductState), progress.ActiveSlot(Inventory.InventoryMetricsProjection.ProjectionName),
            active, defaultThreshold);
        await using var connection = await database.OpenConnectionAsync(ct);
        var json = new Dictionary<string, object>();
        await using (var command = new NpgsqlCommand(users, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            var byRole = new Dictionary<string, long[]>();
            while (await reader.ReadAsync(ct))
            {
                byRole[reader.GetString(0)] = [reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)];
            }

            foreach (var (role, plural) in new[] { ("Customer", "customers"), ("Staff", "staff"), ("Admin", "admins") })
            {
                var c = byRole.GetValueOrDefault(role) ?? new long[5];
                (json[$"total_{plural}"], json[$"active_{plural}"], json[$"inactive_{plural}"]) = (c[0], c[1], c[2]);
                (json[$"{plural}_email_verified"], json[$"{plural}_phone_verified"]) = (c[3], c[4]);
            }
        }

        await using (var command = new NpgsqlCommand(products, connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            string[] names = ["total_products", "total_products_with_inventory", "total_products_with_pricing", "total_stock_quantity",
                "total_reserved_quantity", "total_available_quantity", "products_in_stock", "products_low_stock", "products_out_of_stock",
                "total_inventory_revenue", "reserved_inventory_revenue", "available_inventory_revenue"];
            for (var i = 0; i < names.Length; i++)
            {
                json[names[i]] = reader.GetValue(i);
            }
        }

        return Results.Json(json);
    }

    /// <summary>The analytics' orders, statuses, top artists, timeline and cart figures, aggregated from every order and cart in the range.</summary>
    private static async Task<IResult> Analytics(NpgsqlDataSource database, ProjectionProgress progress, TimeProvider clock,
        string? startDate, string? endDate, CancellationToken ct)
    {
        var (range, error) = AnalyticsRange.Parse(startDate, endDate, clock.GetUtcNow(), TimeZoneInfo.Utc);
        if (range is null)
        {
            return Problems.BadRequest(error!);
        }

        var from = range.First.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var to = range.Last.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var sql = MartenTables.BaselineAnalytics(typeof(OrderState), typeof(CartState), progress.ActiveSlot(GalleryAnalyticsProjection.ProjectionName));
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        var rows = new List<object[]>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var row = new object[5];
                reader.GetValues(row);
                rows.Add(row);
            }
        }

        var artists = rows.Where(r => (string)r[0] == "artist")
            .OrderByDescending(r => (decimal)r[3]).ThenBy(r => (string)r[1], StringComparer.Ordinal).Take(AnalyticsReport.TopArtistCount)
            .Select(r => new { orgId = r[1], totalOrders = r[2], totalRevenue = r[3], itemsSold = r[4] });
        var timeline = rows.Where(r => (string)r[0] == "day").ToDictionary(r => (string)r[1]);
        return Results.Json(new
        {
            analytics = new
            {
                ordersByStatus = rows.Where(r => (string)r[0] == "status").ToDictionary(r => (string)r[1], r => r[2]),
                topArtists = artists,
                carts = rows.Where(r => (string)r[0] == "carts").Sum(r => Convert.ToDecimal(r[3], CultureInfo.InvariantCulture)),
                timeline = range.Days.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                    .Select(d => timeline.TryGetValue(d, out var r)
                        ? new { date = d, orders = r[2], revenue = r[3] }
                        : new { date = d, orders = (object)0m, revenue = (object)0m }),
            },
        });
    }
}

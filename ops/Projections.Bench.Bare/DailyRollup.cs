using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Projections.Bench.Bare;

/// <summary>
/// The second peer: what a user would build instead of our analytics, a daily rollup table
/// (<c>bench_daily_rollup</c>, one row per UTC day with that day's additive figures) and, per request, one
/// <c>select sum(...) ... where day between $1 and $2</c> written as JSON. It answers the sums of the analytics'
/// additive figures over the range: orders, revenue, items sold, orders by status, new, active and checked-out carts,
/// active cart value and items, referrals, conversions and attributed revenue. Not the top artists (a day's row cannot
/// hold them), the timeline or the ratios derived from the sums: less work per request than ours.
/// </summary>
public static partial class DailyRollup
{
    private const string Table = "bench_daily_rollup";

    /// <summary>The rollup's figures: its column, the field of the service's day bucket it is filled from, and the
    /// answer's field.</summary>
    private static readonly (string Column, string Bucket, string Answer)[] Figures =
    [
        ("orders", "orders", "totalOrders"), ("revenue", "revenue", "totalRevenue"), ("items_sold", "itemsSold", "totalItemsSold"),
        ("new_carts", "newCarts", "newCarts"), ("active_carts", "activeCarts", "activeCarts"),
        ("checked_out_active_carts", "checkedOutActiveCarts", "checkedOutActiveCarts"), ("active_cart_value", "activeCartValue", "activeCartValue"),
        ("active_cart_items", "activeCartItems", "activeCartItems"), ("referrals", "referrals", "totalReferrals"),
        ("conversions", "conversions", "conversions"), ("attributed_revenue", "attributedRevenue", "attributedRevenue"),
    ];

    [GeneratedRegex("^[a-z_]+$")]
    private static partial Regex StatusName();

    /// <summary>Creates the rollup once, from the service's UTC day buckets in the run's database (the same figures by
    /// day that the analytics sum; the benchmark checks the peer's answer against the service's), and answers ranges.</summary>
    /// <param name="connectionString">The benchmark's database.</param>
    /// <param name="buckets">The service's table of analytics buckets.</param>
    /// <param name="tenant">The slot the buckets are read from.</param>
    /// <param name="statuses">The order statuses (the wire names), each a column.</param>
    public static async Task<RequestDelegate> CreateAsync(string connectionString, string buckets, string tenant, IReadOnlyList<string> statuses)
    {
        if (statuses.FirstOrDefault(s => !StatusName().IsMatch(s)) is { } bad)
        {
            throw new ArgumentException($"Not a status name: '{bad}'");
        }

        var columns = Figures.Select(f => (f.Column, Source: $"data->'figures'->>'{f.Bucket}'"))
            .Concat(statuses.Select(s => (Column: "status_" + s, Source: $"data->'figures'->'statuses'->>'{s}'")))
            .ToList();
        var database = NpgsqlDataSource.Create(connectionString);
        string[] create =
        [
            $"drop table if exists {Table}",
            $"create table {Table} (day date primary key, {string.Join(", ", columns.Select(c => c.Column + " numeric not null"))})",
            $"insert into {Table} (day, {string.Join(", ", columns.Select(c => c.Column))}) " +
            $"select substr(id, 5)::date, {string.Join(", ", columns.Select(c => $"coalesce(({c.Source})::numeric, 0)"))} " +
            $"from {buckets} where tenant_id = $1 and id ~ '^day:[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'",
            $"analyze {Table}",
        ];
        await using (var connection = await database.OpenConnectionAsync())
        {
            foreach (var sql in create)
            {
                await using var command = new NpgsqlCommand(sql, connection);
                if (sql.Contains("$1", StringComparison.Ordinal))
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = tenant });
                }

                await command.ExecuteNonQueryAsync();
            }
        }

        var query = $"select {string.Join(", ", columns.Select(c => $"coalesce(sum({c.Column}), 0)"))} from {Table} where day between $1 and $2";
        return async context =>
        {
            if (!TryDay(context.Request.Query["start_date"], out var start) || !TryDay(context.Request.Query["end_date"], out var end))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var sums = new decimal[columns.Count];
            await using (var command = database.CreateCommand(query))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = start });
                command.Parameters.Add(new NpgsqlParameter { Value = end });
                await using var reader = await command.ExecuteReaderAsync(context.RequestAborted);
                await reader.ReadAsync(context.RequestAborted);
                for (var i = 0; i < sums.Length; i++)
                {
                    sums[i] = reader.GetDecimal(i);
                }
            }

            var body = new ArrayBufferWriter<byte>(1024);
            await using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                for (var i = 0; i < Figures.Length; i++)
                {
                    json.WriteNumber(Figures[i].Answer, sums[i]);
                }

                json.WriteStartObject("ordersByStatus");
                for (var i = 0; i < statuses.Count; i++)
                {
                    json.WriteNumber(statuses[i], sums[Figures.Length + i]);
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.WrittenCount;
            await context.Response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted);
        };
    }

    private static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
}

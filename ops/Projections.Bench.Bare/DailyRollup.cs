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

    /// <summary>The rollup's figures: its column, the service's day bucket it is filled from (<c>g</c>: the gallery's,
    /// <c>r</c>: the referral buckets), its field there, and the answer's field.</summary>
    private static readonly (string Column, string From, string Bucket, string Answer)[] Figures =
    [
        ("orders", "g", "orders", "totalOrders"), ("revenue", "g", "revenue", "totalRevenue"), ("items_sold", "g", "itemsSold", "totalItemsSold"),
        ("new_carts", "g", "newCarts", "newCarts"), ("active_carts", "g", "activeCarts", "activeCarts"),
        ("checked_out_active_carts", "g", "checkedOutActiveCarts", "checkedOutActiveCarts"),
        ("active_cart_value", "g", "activeCartValue", "activeCartValue"), ("active_cart_items", "g", "activeCartItems", "activeCartItems"),
        ("referrals", "r", "referrals", "totalReferrals"), ("conversions", "r", "conversions", "conversions"),
        ("attributed_revenue", "r", "attributedRevenue", "attributedRevenue"),
    ];

    [GeneratedRegex("^[a-z_]+$")]
    private static partial Regex StatusName();

    /// <summary>Creates the rollup once, from the service's UTC day buckets in the run's database (the same figures by
    /// day that the analytics sum, the gallery's and the referrals' in one row; the benchmark checks the peer's answer
    /// against the service's), and answers ranges.</summary>
    /// <param name="connectionString">The benchmark's database.</param>
    /// <param name="buckets">The service's table of the gallery's analytics buckets.</param>
    /// <param name="tenant">The slot the gallery's buckets are read from.</param>
    /// <param name="referralBuckets">The service's table of referral buckets.</param>
    /// <param name="referralTenant">The slot the referral buckets are read from.</param>
    /// <param name="statuses">The order statuses (the wire names), each a column.</param>
    public static async Task<RequestDelegate> CreateAsync(string connectionString, string buckets, string tenant, string referralBuckets,
        string referralTenant, IReadOnlyList<string> statuses)
    {
        if (statuses.FirstOrDefault(s => !StatusName().IsMatch(s)) is { } bad)
        {
            throw new ArgumentException($"Not a status name: '{bad}'");
        }

        var columns = Figures.Select(f => (f.Column, Source: $"{f.From}.data->'figures'->>'{f.Bucket}'"))
            .Concat(statuses.Select(s => (Column: "status_" + s, Source: $"g.data->'figures'->'statuses'->>'{s}'")))
            .ToList();
        var database = NpgsqlDataSource.Create(connectionString);
        string[] create =
        [
            $"drop table if exists {Table}",
            $"create table {Table} (day date primary key, {string.Join(", ", columns.Select(c => c.Column + " numeric not null"))})",
            $"insert into {Table} (day, {string.Join(", ", columns.Select(c => c.Column))}) " +
            $"select coalesce(g.day, r.day), {string.Join(", ", columns.Select(c => $"coalesce(({c.Source})::numeric, 0)"))} " +
            $"from ({UtcDays(buckets, "$1")}) g full join ({UtcDays(referralBuckets, "$2")}) r on r.day = g.day",
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
                    command.Parameters.Add(new NpgsqlParameter { Value = referralTenant });
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

    /// <summary>The UTC day buckets of one slot of a bucket table: their day and their document.</summary>
    private static string UtcDays(string table, string tenant) =>
        $"select substr(id, 5)::date as day, data from {table} where tenant_id = {tenant} and id ~ '^day:[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'";

    private static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
}

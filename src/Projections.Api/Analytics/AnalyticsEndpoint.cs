using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary><c>GET /api/admin/analytics</c>: the Admin Analytics API, as JSON or as a CSV export.</summary>
public static class AnalyticsEndpoint
{
    /// <summary>The projections a report is summed from: the gallery's buckets and the referral buckets.</summary>
    private static readonly string[] Projections = [GalleryAnalyticsProjection.ProjectionName, ReferralAnalyticsProjection.ProjectionName];

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/admin/analytics", Get).WithTags("Analytics").RequireAuthorization(AuthSetup.AdminOnly).RequireCors(ReadSetup.CorsPolicy);
        return app;
    }

    private static async Task<IResult> Get(HttpContext context, TimeProvider clock, IOptions<AnalyticsSettings> settings, AnalyticsZones zones, ProjectionProgress progress,
        [FromQuery(Name = "start_date")] string? startDate, [FromQuery(Name = "end_date")] string? endDate, [FromQuery] string? tz,
        [FromQuery] string? compare, [FromQuery] string? format)
    {
        var zone = string.IsNullOrEmpty(tz) ? TimeZoneInfo.Utc : zones.Served(tz);
        if (zone is null)
        {
            return Problems.BadRequest(
                $"tz '{Problems.Quote(tz!)}' is not a served time zone: the zones served (UTC and Analytics:TimeZones) are {string.Join(", ", zones.Ids)}.");
        }

        var (range, error) = AnalyticsRange.Parse(startDate, endDate, clock.GetUtcNow(), zone);
        if (range is null)
        {
            return Problems.BadRequest(error!);
        }

        bool comparePrevious;
        switch (compare)
        {
            case null or "":
                comparePrevious = false;
                break;
            case "previous_period":
                comparePrevious = true;
                break;
            default:
                return Problems.BadRequest($"compare must be previous_period, not '{Problems.Quote(compare)}'.");
        }

        bool csv;
        switch (format?.ToLowerInvariant())
        {
            case null or "":
                csv = context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
                break;
            case "json" or "csv":
                csv = format.Equals("csv", StringComparison.OrdinalIgnoreCase);
                break;
            default:
                return Problems.BadRequest($"format must be json or csv, not '{Problems.Quote(format)}'.");
        }

        if (!AnalyticsZones.IsUtc(zone))
        {
            var unbuilt = new List<string>();
            foreach (var name in Projections)
            {
                if (!await progress.ServesAsync(name, zone.Id, context.RequestAborted))
                {
                    unbuilt.Add(name);
                }
            }

            if (unbuilt.Count > 0)
            {
                context.Response.Headers.RetryAfter = "60";
                return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Time zone not built yet",
                    $"The time zone {zone.Id} is configured, but {string.Join(" and ", unbuilt)} {(unbuilt.Count == 1 ? "has" : "have")} not been rebuilt since it was added, " +
                    $"so {(unbuilt.Count == 1 ? "its" : "their")} days would miss earlier events. Rebuild " +
                    string.Join(" and ", unbuilt.Select(n => $"{n} (POST /api/admin/projections/{n}/rebuild, or ops/projections rebuild {n})")) +
                    $"; the zone is served once {(unbuilt.Count == 1 ? "the rebuild completes" : "both rebuilds complete")}.");
            }
        }

        var rate = settings.Value.GalleryCommissionRate;
        // Resolved again for each update of a live stream: without end_date the range ends today, in the zone.
        ReadQuery Query()
        {
            var now = clock.GetUtcNow();
            var resolved = string.IsNullOrEmpty(endDate) ? AnalyticsRange.Parse(startDate, endDate, now, zone).Range ?? range : range;
            var key = $"analytics:{zone.Id}:{resolved.First:yyyy-MM-dd}:{resolved.Last:yyyy-MM-dd}:{(comparePrevious ? "compare" : "")}:{(csv ? "csv" : "json")}";
            return new ReadQuery(key, Projections, async (sessions, ct) =>
            {
                var report = await AnalyticsReport.LoadAsync(sessions.Of(GalleryAnalyticsProjection.ProjectionName),
                    sessions.Of(ReferralAnalyticsProjection.ProjectionName), resolved, comparePrevious, rate, ct);
                if (csv)
                {
                    return Encoding.UTF8.GetBytes(report.ToCsv());
                }

                var buffer = new ArrayBufferWriter<byte>(4096);
                using (var json = new Utf8JsonWriter(buffer))
                {
                    report.WriteJson(json);
                }

                return buffer.WrittenSpan.ToArray();
            })
            {
                ContentType = csv ? "text/csv; charset=utf-8" : "application/json",
                ContentDisposition = csv ? $"attachment; filename=\"{AnalyticsReport.CsvFileName(resolved)}\"" : null,
                // The range moves with the day: the answer has looked this way since the day began, at the latest.
                ValidFrom = string.IsNullOrEmpty(endDate) ? AnalyticsZones.StartOf(AnalyticsZones.DayOf(now, zone), zone) : null,
            };
        }

        return await ReadModelEndpoint.Serve(context, Query);
    }
}

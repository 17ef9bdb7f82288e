using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary><c>GET /api/admin/analytics</c>: the Admin Analytics API, as JSON or as a CSV export.</summary>
public static class AnalyticsEndpoint
{
    private static readonly string[] Projections = [GalleryAnalyticsProjection.ProjectionName];

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/admin/analytics", Get).WithTags("Analytics").RequireAuthorization(AuthSetup.AdminOnly);
        return app;
    }

    private static Task<IResult> Get(HttpContext context, TimeProvider clock, IOptions<AnalyticsSettings> settings,
        [FromQuery(Name = "start_date")] string? startDate, [FromQuery(Name = "end_date")] string? endDate, [FromQuery] string? format)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var (range, error) = AnalyticsRange.Parse(startDate, endDate, today);
        if (range is null)
        {
            return Task.FromResult(Problems.BadRequest(error!));
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
                return Task.FromResult(Problems.BadRequest($"format must be json or csv, not '{Problems.Quote(format)}'."));
        }

        var rate = settings.Value.GalleryCommissionRate;
        context.Response.Headers.Vary = HeaderNames.Accept;
        return ReadModelEndpoint.Serve(context, $"analytics:{range.First:yyyy-MM-dd}:{range.Last:yyyy-MM-dd}:{(csv ? "csv" : "json")}", Projections,
            async (sessions, ct) =>
            {
                var report = await AnalyticsReport.LoadAsync(sessions.Of(GalleryAnalyticsProjection.ProjectionName), range, rate, ct);
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
            }, csv ? "text/csv; charset=utf-8" : "application/json",
            csv ? $"attachment; filename=\"{AnalyticsReport.CsvFileName(range)}\"" : null);
    }
}

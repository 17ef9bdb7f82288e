// Metrics/: the three Metrics API routes, answered from Users' and Inventory's read models. Uses ReadModels, Users,
// Inventory, Hosting and Auth.
using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;
using Projections.Inventory;
using Projections.Users;

namespace Projections.Metrics;

/// <summary>
/// The Metrics API (shared/seeds/000): each route reads one or two precomputed documents and writes the seed's
/// snake_case fields; nothing is counted on request.
/// </summary>
public static class MetricsEndpoints
{
    private const string Users = UserMetricsProjection.ProjectionName;
    private const string Inventory = InventoryMetricsProjection.ProjectionName;
    private static readonly string[] UserProjections = [Users];
    private static readonly string[] InventoryProjections = [Inventory];
    private static readonly string[] BothProjections = [Users, Inventory];

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var metrics = app.MapGroup("/metrics").WithTags("Metrics").RequireCors(ReadSetup.CorsPolicy);

        metrics.MapGet("/admin-dashboard", (HttpContext context, [FromQuery(Name = "active_only")] string? activeOnlyText) =>
            ActiveOnly(activeOnlyText, out var activeOnly) ?? ReadModelEndpoint.Serve(context, () => new ReadQuery(activeOnly ? "admin:active" : "admin:all", BothProjections,
                async (sessions, ct) =>
                {
                    var users = await sessions.Of(Users).LoadAsync<UserMetrics>(UserMetrics.DocumentId, ct) ?? new UserMetrics();
                    var inventory = await sessions.Of(Inventory).LoadAsync<InventoryMetrics>(InventoryMetrics.DocumentId, ct) ?? new InventoryMetrics();
                    return Json(json =>
                    {
                        UserCountsJson.WriteAll(json, users);
                        InventoryJson.Write(json, inventory.View(activeOnly));
                    });
                }))).RequireAuthorization(AuthSetup.AdminOnly);

        metrics.MapGet("/staff-dashboard", (HttpContext context, CancellationToken _) =>
            ReadModelEndpoint.Serve(context, () => new ReadQuery("staff", UserProjections, async (sessions, ct) =>
            {
                var users = await sessions.Of(Users).LoadAsync<UserMetrics>(UserMetrics.DocumentId, ct) ?? new UserMetrics();
                return Json(json => UserCountsJson.WriteCustomers(json, users));
            }))).RequireAuthorization(AuthSetup.CustomerCounts);

        metrics.MapGet("/inventory", (HttpContext context, [FromQuery(Name = "active_only")] string? activeOnlyText) =>
            ActiveOnly(activeOnlyText, out var activeOnly) ?? ReadModelEndpoint.Serve(context, () => new ReadQuery(activeOnly ? "inventory:active" : "inventory:all", InventoryProjections,
                async (sessions, ct) =>
                {
                    var inventory = await sessions.Of(Inventory).LoadAsync<InventoryMetrics>(InventoryMetrics.DocumentId, ct) ?? new InventoryMetrics();
                    return Json(json => InventoryJson.Write(json, inventory.View(activeOnly)));
                }))).RequireAuthorization(AuthSetup.InventoryMetrics);

        return app;
    }

    /// <summary>Reads <c>active_only</c>: 1/true/yes (the default) or 0/false/no, any case; otherwise a 400 answer.</summary>
    private static Task<IResult>? ActiveOnly(string? raw, out bool activeOnly)
    {
        activeOnly = true;
        if (raw is null)
        {
            return null;
        }

        switch (raw.Trim().ToLowerInvariant())
        {
            case "1" or "true" or "yes":
                return null;
            case "0" or "false" or "no":
                activeOnly = false;
                return null;
            default:
                return Task.FromResult(Problems.BadRequest($"active_only must be 1, true, yes, 0, false or no, not '{Problems.Quote(raw.ToString())}'."));
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> writeFields)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            writeFields(json);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

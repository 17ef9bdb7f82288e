using JasperFx.Events;
using Marten;
using Projections.Auth;
using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>The answer to a rebuild request.</summary>
public sealed record RebuildAccepted(string RebuildId, string StatusUrl);

/// <summary>A rebuild in progress, as the projections' status names it, so that any client can follow a rebuild it did not
/// ask for (another operator's, or one asked for before a page was reloaded).</summary>
public sealed record RunningRebuild(string RebuildId, string StatusUrl);

/// <summary>A rebuild's state: <c>processed</c> and <c>total</c> are event sequence numbers (replayed through, and the live
/// projection's position), <c>percent</c> the share done.</summary>
public sealed record RebuildStatus(string RebuildId, string Projection, string Status, long Processed, long Total, double Percent,
    DateTimeOffset RequestedAt, DateTimeOffset? FinishedAt, string? Error);

/// <summary>
/// <c>POST /api/admin/projections/{name}/rebuild</c> and the rebuild's status. A request is an event in the stream
/// <c>rebuild:{name}</c>, appended at the stream version the last processed request left, so that of two concurrent
/// requests only one is accepted; the projection starts the rebuild when it processes the event.
/// </summary>
public static class RebuildEndpoints
{
    public static IEndpointRouteBuilder MapRebuilds(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/projections/{name}").WithTags("Operations").RequireAuthorization(AuthSetup.AdminOnly);
        group.MapPost("/rebuild", RequestAsync);
        group.MapGet("/rebuilds/{rebuildId}", StatusAsync);
        return app;
    }

    public static string StatusUrl(string projection, string rebuildId) => $"/api/admin/projections/{projection}/rebuilds/{rebuildId}";

    private static async Task<IResult> RequestAsync(string name, IDocumentStore store, ProjectionCatalogue catalogue, TimeProvider clock,
        CancellationToken cancellation)
    {
        if (Known(catalogue, name) is { } unknown)
        {
            return unknown;
        }

        await using var session = store.LightweightSession();
        var slots = await session.LoadAsync<ProjectionSlots>(name, cancellation);
        if (slots?.Rebuild is { } running)
        {
            return Conflict(name, $"Rebuild {running.Id} of {name} is running ({running.Percent}%).", running.Id);
        }

        var stream = RebuildRequested.StreamKey(name);
        var version = (await session.Events.FetchStreamStateAsync(stream, cancellation))?.Version ?? 0;
        if (version > (slots?.RequestVersion ?? 0))
        {
            return Conflict(name, $"A rebuild of {name} was requested and is about to start.", null);
        }

        var rebuildId = "rb-" + Guid.CreateVersion7().ToString("N");
        var requested = new RebuildRequested(rebuildId, name, clock.GetUtcNow());
        if (version == 0)
        {
            session.Events.StartStream(stream, requested);
        }
        else
        {
            session.Events.Append(stream, version + 1, requested);
        }

        try
        {
            await session.SaveChangesAsync(cancellation);
        }
        catch (Exception e) when (IsConcurrentRequest(e))
        {
            return Conflict(name, $"Another rebuild of {name} was requested at the same time.", null);
        }

        var url = StatusUrl(name, rebuildId);
        return Results.Accepted(url, new RebuildAccepted(rebuildId, url));
    }

    private static async Task<IResult> StatusAsync(string name, string rebuildId, IDocumentStore store, ProjectionCatalogue catalogue,
        CancellationToken cancellation)
    {
        if (Known(catalogue, name) is { } unknown)
        {
            return unknown;
        }

        await using var session = store.QuerySession();
        var slots = await session.LoadAsync<ProjectionSlots>(name, cancellation);
        if (slots?.Find(rebuildId) is { } run)
        {
            return Results.Json(new RebuildStatus(run.Id, name, run.Status, run.Processed, run.Total, run.Percent, run.RequestedAt, run.FinishedAt, run.Error),
                statusCode: StatusCodes.Status200OK);
        }

        // Accepted, but the projection has not picked the request up yet.
        var events = await session.Events.FetchStreamAsync(RebuildRequested.StreamKey(name), token: cancellation);
        if (events.Select(e => e.Data).OfType<RebuildRequested>().FirstOrDefault(r => r.RebuildId == rebuildId) is { } pending)
        {
            return Results.Json(new RebuildStatus(rebuildId, name, RebuildRun.Running, 0, 0, 0, pending.RequestedAt, null, null));
        }

        return Problems.Result(StatusCodes.Status404NotFound, "Rebuild not found", $"{name} has no rebuild {rebuildId}.");
    }

    /// <summary>Another request appended to the stream first (a version mismatch, or a unique key of the stream or its
    /// events taken).</summary>
    private static bool IsConcurrentRequest(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is EventStreamUnexpectedMaxEventIdException or ExistingStreamIdCollisionException or Marten.Exceptions.ExistingStreamIdCollisionException
                or Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }

    private static IResult? Known(ProjectionCatalogue catalogue, string name) => catalogue.Find(name) is not null
        ? null
        : Problems.Result(StatusCodes.Status404NotFound, "Projection not found",
            $"There is no projection named '{Problems.Quote(name)}'. Projections: {string.Join(", ", catalogue.Names)}.");

    private static IResult Conflict(string name, string detail, string? rebuildId) =>
        Problems.Result(StatusCodes.Status409Conflict, "Rebuild already running", detail,
            rebuildId is null ? null : new Dictionary<string, object?> { ["rebuildId"] = rebuildId, ["statusUrl"] = StatusUrl(name, rebuildId) });
}

using Marten;
using Projections.Auth;
using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>One set-aside event as an operator sees it; <c>id</c> is the event's id (the publisher's envelope id).</summary>
public sealed record DeadLetterInfo(Guid Id, string Projection, long Sequence, string Type, string Reason, DateTimeOffset SetAsideAt, int Attempts);

public sealed record DeadLetterList(IReadOnlyList<DeadLetterInfo> DeadLetterEvents);

/// <summary>The answer to a replay request: how many set-aside events it names, and the sequence of the request, which
/// the projections have dealt with once their <c>sequence</c> in the status reaches it.</summary>
public sealed record ReplayAccepted(string ReplayId, int Events, long Sequence);

/// <summary>
/// The events projections have set aside (<c>GET /api/admin/projections/dead-letters</c>), and replaying them after a
/// fix (<c>POST …/dead-letters/{id}/replay</c>, <c>POST …/dead-letters/replay</c> for all). A replay is an event of
/// its own, so the projection applies the set-aside events in order with everything else it processes: the ones that
/// apply are counted from then on and leave the list; the ones that still throw stay, with the new reason.
/// </summary>
public static class DeadLetterEndpoints
{
    private const int MaxListed = 1000;

    public static IEndpointRouteBuilder MapDeadLetters(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/projections/dead-letters").WithTags("Operations").RequireAuthorization(AuthSetup.AdminOnly);
        group.MapGet("", async (IDocumentStore store, ProjectionCatalogue catalogue, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var events = await ListAsync(store, catalogue, context.RequestAborted);
            return Results.Json(new DeadLetterList([.. events.Take(MaxListed).Select(Info)]));
        }).Produces<DeadLetterList>();
        group.MapPost("/replay", (IDocumentStore store, ProjectionCatalogue catalogue, TimeProvider clock, CancellationToken cancellation) =>
            ReplayAsync(store, catalogue, clock, null, cancellation)).Produces<ReplayAccepted>(StatusCodes.Status202Accepted);
        group.MapPost("/{id:guid}/replay", (Guid id, IDocumentStore store, ProjectionCatalogue catalogue, TimeProvider clock,
            CancellationToken cancellation) => ReplayAsync(store, catalogue, clock, id, cancellation)).Produces<ReplayAccepted>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static DeadLetterInfo Info(SetAsideEvent e) => new(e.EventId, e.Projection, e.Sequence, e.Type, e.Reason, e.SetAsideAt, e.Attempts);

    /// <summary>The events every projection's active slot has set aside, in sequence order.</summary>
    public static async Task<List<SetAsideEvent>> ListAsync(IDocumentStore store, ProjectionCatalogue catalogue, CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var slots = (await session.LoadManyAsync<ProjectionSlots>(cancellation, catalogue.Names)).ToDictionary(s => s.Id);
        var events = new List<SetAsideEvent>();
        foreach (var name in catalogue.Names)
        {
            await using var slot = store.QuerySession(slots.GetValueOrDefault(name)?.Active ?? ProjectionSlots.Blue);
            events.AddRange(await slot.Query<SetAsideEvent>().Where(s => s.Projection == name).ToListAsync(cancellation));
        }

        return [.. events.OrderBy(e => e.Sequence).ThenBy(e => e.Projection, StringComparer.Ordinal)];
    }

    private static async Task<IResult> ReplayAsync(IDocumentStore store, ProjectionCatalogue catalogue, TimeProvider clock, Guid? id,
        CancellationToken cancellation)
    {
        var setAside = (await ListAsync(store, catalogue, cancellation)).Where(e => id is null || e.EventId == id).ToList();
        if (id is not null && setAside.Count == 0)
        {
            return Problems.Result(StatusCodes.Status404NotFound, "Not set aside", $"No projection has set aside the event {id}.");
        }

        var replayId = "rp-" + Guid.CreateVersion7().ToString("N");
        await using var session = store.LightweightSession();
        var appended = setAside.Select(e => e.Projection).Distinct()
            .Select(projection => session.Events.Append(ReplayRequested.StreamKey(projection),
                new ReplayRequested(replayId, projection, id is null ? null : [id.Value], clock.GetUtcNow())))
            .ToList();
        await session.SaveChangesAsync(cancellation);
        var sequence = appended.Select(a => a.Events[^1].Sequence).DefaultIfEmpty(0).Max();
        return Results.Json(new ReplayAccepted(replayId, setAside.Count, sequence), statusCode: StatusCodes.Status202Accepted);
    }
}

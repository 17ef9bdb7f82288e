namespace Projections.ReadModels;

/// <summary>
/// An operator asked for <see cref="Projection"/> to be rebuilt. Stored in the event store (stream <c>rebuild:{name}</c>)
/// so that the projection itself starts the rebuild, in order with every other event it processes, on whichever node
/// runs it. Internal: never accepted from <c>POST /api/events</c>.
/// </summary>
public sealed record RebuildRequested(string RebuildId, string Projection, DateTimeOffset RequestedAt)
{
    public const string TypeName = "ops.rebuild_requested";

    public static string StreamKey(string projection) => "rebuild:" + projection;
}

/// <summary>
/// Wakes <see cref="Projection"/> while a rebuild runs and no other events arrive: each batch the projection processes
/// replays the next chunk of history into the slot being rebuilt. Internal, like <see cref="RebuildRequested"/>.
/// </summary>
public sealed record RebuildTick(string Projection)
{
    public const string TypeName = "ops.rebuild_tick";

    public static string StreamKey(string projection) => "rebuild-ticks:" + projection;
}

/// <summary>
/// An operator asked <see cref="Projection"/> to apply events it had set aside again (after a fix): the given ones, or
/// every one when <see cref="EventIds"/> is null. An event like <see cref="RebuildRequested"/>, so the projection
/// replays them in order with everything else it processes. Internal.
/// </summary>
public sealed record ReplayRequested(string ReplayId, string Projection, IReadOnlyList<Guid>? EventIds, DateTimeOffset RequestedAt)
{
    public const string TypeName = "ops.replay_requested";

    public static string StreamKey(string projection) => "replay:" + projection;
}

using System.Threading.Channels;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Marten.Storage;
using Projections.ReadModels;

namespace Projections.Operations;

/// <summary>
/// A projection shard whose last batch failed as a whole (the daemon pauses it and tries the same events again every
/// few seconds): a database that refuses the batch's writes, or a failure outside the events (those are set aside
/// instead). Written by the node that runs the shard, read by every node's status and readiness.
/// </summary>
public sealed class ProjectionFault
{
    /// <summary>The shard, e.g. <c>GalleryAnalytics:All</c>.</summary>
    public string Id { get; set; } = "";
    public string Projection { get; set; } = "";

    /// <summary>The exception's type and message.</summary>
    public string Error { get; set; } = "";

    /// <summary>The sequence the shard had processed through when it failed: it is stuck while it has not moved past it.</summary>
    public long StuckAt { get; set; }

    public DateTimeOffset FirstFailedAt { get; set; }
    public DateTimeOffset LastFailedAt { get; set; }
    public int Attempts { get; set; }

    /// <summary>A fault is current while the shard has not moved past where it failed and the daemon keeps failing there
    /// (it retries within seconds; a fault not renewed for this long is left over from a node that went away).</summary>
    public static readonly TimeSpan RenewedWithin = TimeSpan.FromSeconds(60);

    public bool IsCurrent(long sequence, DateTimeOffset now) => sequence <= StuckAt && now - LastFailedAt < RenewedWithin;
}

/// <summary>
/// Watches this node's projection daemon (Marten's shard state tracker): every failed attempt of a shard is recorded as a
/// <see cref="ProjectionFault"/>, and removed once the shard moves past the point where it failed. So status and
/// readiness, on any node, say "retrying" with the error instead of "running" while the daemon retries a batch.
/// </summary>
public sealed class ProjectionFaults(IDocumentStore store, ProjectionProgress progress, ProjectionCatalogue catalogue, TimeProvider clock,
    ILogger<ProjectionFaults> logger) : BackgroundService, IObserver<ShardState>
{
    private readonly Channel<ShardState> _states = Channel.CreateUnbounded<ShardState>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, ProjectionFault> _recorded = new(StringComparer.Ordinal);
    private readonly HashSet<string> _shards = [.. catalogue.Projections.Select(p => p.Shard)];

    public void OnNext(ShardState value)
    {
        if (_shards.Contains(value.ShardName) && value.Action is ShardAction.Paused or ShardAction.Updated)
        {
            _states.Writer.TryWrite(value);
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = ((IMartenDatabase)store.Storage.Database).Tracker.Subscribe(this);
        await foreach (var state in _states.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RecordAsync(state, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not record the state of {Shard}", state.ShardName);
            }
        }
    }

    private async Task RecordAsync(ShardState state, CancellationToken cancellation)
    {
        var recorded = _recorded.GetValueOrDefault(state.ShardName);
        if (state.Action == ShardAction.Updated)
        {
            if (recorded is not null && state.Sequence > recorded.StuckAt)
            {
                await using var session = store.LightweightSession();
                session.Delete<ProjectionFault>(state.ShardName);
                await session.SaveChangesAsync(cancellation);
                _recorded.Remove(state.ShardName);
                logger.LogInformation("Projection shard {Shard} moved on past sequence {Sequence}", state.ShardName, recorded.StuckAt);
            }

            return;
        }

        if (state.Exception is not { } error)
        {
            return;
        }

        var now = clock.GetUtcNow();
        await progress.RefreshAsync(cancellation);
        var stuckAt = progress.Of(state.ShardName);
        var fault = recorded is not null && recorded.StuckAt == stuckAt
            ? recorded
            : new ProjectionFault
            {
                Id = state.ShardName, Projection = catalogue.Projections.Single(p => p.Shard == state.ShardName).Name, StuckAt = stuckAt,
                FirstFailedAt = now,
            };
        fault.Error = SetAsideEvent.Describe(error);
        fault.LastFailedAt = now;
        fault.Attempts++;
        await using (var session = store.LightweightSession())
        {
            session.Store(fault);
            await session.SaveChangesAsync(cancellation);
        }

        _recorded[state.ShardName] = fault;
        logger.LogWarning("Projection shard {Shard} failed at sequence {Sequence} (attempt {Attempts}); the daemon retries it: {Error}",
            state.ShardName, stuckAt, fault.Attempts, fault.Error);
    }
}

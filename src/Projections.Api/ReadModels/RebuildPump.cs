using Marten;
using Microsoft.Extensions.Options;

namespace Projections.ReadModels;

/// <summary>
/// Keeps running rebuilds moving when no other events arrive: whenever a projection with a rebuild in progress has
/// processed this node's last <see cref="RebuildTick"/>, appends the next one. Runs on every node; extra ticks from
/// several nodes only wake the projection once more. When the last running rebuild has finished, gives the memory it
/// took back to the operating system (<see cref="ReleaseMemory"/>).
/// </summary>
public sealed class RebuildPump(IDocumentStore store, ProjectionProgress progress, ProjectionCatalogue catalogue, TimeProvider clock,
    IOptions<ProjectionSettings> settings, ILogger<RebuildPump> logger)
    : BackgroundService
{
    private static readonly TimeSpan BusyInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>A tick not processed within this time is sent again (the event store may have been reset, or the node that
    /// runs the projection changed).</summary>
    private static readonly TimeSpan TickTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, (string RebuildId, long Sequence, DateTimeOffset At)> _lastTick = new(StringComparer.Ordinal);
    private bool _rebuilding;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await PumpAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not move the running rebuilds on");
            }

            await Task.Delay(busy ? BusyInterval : settings.Value.ProgressPollInterval, stoppingToken);
        }
    }

    private async Task<bool> PumpAsync(CancellationToken cancellation)
    {
        var running = catalogue.Projections.Where(p => progress.Slots(p.Name)?.Rebuild is not null).ToList();
        if (running.Count == 0)
        {
            if (_rebuilding)
            {
                _rebuilding = false;
                ReleaseMemory();
            }

            return false;
        }

        _rebuilding = true;

        await progress.RefreshAsync(cancellation);
        foreach (var (name, shard) in running.Select(p => (p.Name, p.Shard)))
        {
            if (progress.Slots(name)?.Rebuild is not { } run
                || (_lastTick.TryGetValue(name, out var last) && last.RebuildId == run.Id && progress.Of(shard) < last.Sequence
                    && clock.GetUtcNow() - last.At < TickTimeout))
            {
                continue;
            }

            await using var session = store.LightweightSession();
            var action = session.Events.Append(RebuildTick.StreamKey(name), new RebuildTick(name));
            await session.SaveChangesAsync(cancellation);
            _lastTick[name] = (run.Id, action.Events[^1].Sequence, clock.GetUtcNow());
        }

        return true;
    }

    /// <summary>
    /// A rebuild replays all of history: its chunks, documents and writes grow the collector's heaps by a few hundred
    /// megabytes that it keeps committed long after (the process's memory would stay at its peak until a restart, and
    /// the next burst would come on top of it). One full compacting collection when the rebuilds are over gives it back,
    /// once per rebuild, not per request; its pause (logged) falls on the reads of that moment.
    /// </summary>
    private void ReleaseMemory()
    {
        var before = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var collection = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        logger.LogInformation("Rebuilds finished: the collector's committed memory went from {Before} MB to {After} MB in a pause of {Pause} ms",
            before / 1048576, collection.TotalCommittedBytes / 1048576, collection.PauseDurations[0].TotalMilliseconds);
    }
}

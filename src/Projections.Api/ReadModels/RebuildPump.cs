using Marten;
using Microsoft.Extensions.Options;

namespace Projections.ReadModels;

/// <summary>
/// Keeps running rebuilds moving when no other events arrive: whenever a projection with a rebuild in progress has
/// processed this node's last <see cref="RebuildTick"/>, appends the next one. Runs on every node; extra ticks from
/// several nodes only wake the projection once more.
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
            return false;
        }

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
}

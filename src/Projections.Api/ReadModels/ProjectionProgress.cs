using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.Options;
using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>
/// The last known progress (event sequence processed through) of every projection shard, and the slot each projection's
/// reads come from, refreshed in the background
/// so that a read learns whether anything changed without a database round trip of its own. Reads that ask for
/// <c>min_sequence</c> beyond what is known wait here, refreshing until the projection catches up or time runs out.
/// What it last saw is also reported as gauges: the high-water mark, and each projection's sequence and lag.
/// </summary>
public sealed class ProjectionProgress : BackgroundService
{
    private readonly IDocumentStore _store;
    private readonly ReadModelCache _cache;
    private readonly ProjectionCatalogue _catalogue;
    private readonly IOptions<ProjectionSettings> _settings;
    private readonly ILogger<ProjectionProgress> _logger;
    private readonly TimeProvider _clock;

    public ProjectionProgress(IDocumentStore store, ReadModelCache cache, ProjectionCatalogue catalogue, IOptions<ProjectionSettings> settings,
        IMeterFactory meters, ILogger<ProjectionProgress> logger, TimeProvider clock)
    {
        (_store, _cache, _catalogue, _settings, _logger, _clock) = (store, cache, catalogue, settings, logger, clock);
        // On a meter of this host's factory, so that several hosts in one process (the tests) each report their own.
        var meter = meters.Create(Telemetry.Name);
        meter.CreateObservableGauge("projections.high_water_mark", () => Of(ShardState.HighWaterMark),
            "{sequence}", "The highest event sequence the daemon may process.");
        meter.CreateObservableGauge("projections.sequence", () => Each(shard => Of(shard)),
            "{sequence}", "The event sequence each projection has processed through.");
        meter.CreateObservableGauge("projections.lag.events", () => Each(shard => Math.Max(0, Of(ShardState.HighWaterMark) - Of(shard))),
            "{event}", "Events up to the high-water mark each projection has not processed yet.");
    }

    private IEnumerable<Measurement<long>> Each(Func<string, long> value) =>
        _catalogue.Projections.Select(p => new Measurement<long>(value(p.Shard), new KeyValuePair<string, object?>("projection", p.Name)));

    private static readonly TimeSpan WaitPollInterval = TimeSpan.FromMilliseconds(15);
    private volatile FrozenDictionary<string, long> _current = FrozenDictionary<string, long>.Empty;
    private volatile FrozenDictionary<string, ProjectionSlots> _slots = FrozenDictionary<string, ProjectionSlots>.Empty;
    private readonly Lock _gate = new();
    private Task? _refreshing;

    private bool _loaded;

    /// <summary>When each shard's progress was last seen to move (absent until it has).</summary>
    private volatile FrozenDictionary<string, DateTimeOffset> _movedAt = FrozenDictionary<string, DateTimeOffset>.Empty;

    /// <summary>
    /// How many events the projection furthest behind is below the high-water mark, as last seen, counting only projections
    /// whose progress moved within <paramref name="movingWithin"/>: a projection that stands still (stopped, failing, or
    /// on no node) is not catching up, and waiting for it would only stop ingest.
    /// </summary>
    public long BehindBy(TimeSpan movingWithin)
    {
        var (newest, now, moved) = (Of(ShardState.HighWaterMark), _clock.GetUtcNow(), _movedAt);
        long behind = 0;
        foreach (var projection in _catalogue.Projections)
        {
            if (moved.TryGetValue(projection.Shard, out var at) && now - at <= movingWithin)
            {
                behind = Math.Max(behind, newest - Of(projection.Shard));
            }
        }

        return behind;
    }

    /// <summary>The sequence a projection shard has processed through, as last seen (0 before it has processed anything).</summary>
    public long Of(string shardName) => _current.GetValueOrDefault(shardName);

    /// <summary>The slot a projection's reads come from, as last seen.</summary>
    public string ActiveSlot(string projection) => _slots.TryGetValue(projection, out var slots) ? slots.Active : ProjectionSlots.Blue;

    /// <summary>A projection's slots and rebuild, as last seen (null before its first rebuild).</summary>
    public ProjectionSlots? Slots(string projection) => _slots.GetValueOrDefault(projection);

    /// <summary>
    /// When the documents behind an answer last changed, for the answer read at <paramref name="processed"/> (each
    /// projection's progress, in order): the latest change each projection's slots record at or before its progress.
    /// Never later than the documents read at that progress (a change recorded beyond it is not theirs), so a client's
    /// <c>If-Modified-Since</c> cannot hide a change from it. Null when the projections never changed, or when the
    /// changes recorded are all beyond the progress (the slots were looked up after a newer batch).
    /// <c>Ambiguous</c>: another change may have fallen in the same second, which HTTP dates cannot tell apart.
    /// </summary>
    public (DateTimeOffset? At, bool Ambiguous) LastChanged(IReadOnlyList<string> projections, long[] processed) =>
        LastChanged([.. projections.Select(Slots)], processed);

    /// <inheritdoc cref="LastChanged(IReadOnlyList{string}, long[])"/>
    public static (DateTimeOffset? At, bool Ambiguous) LastChanged(IReadOnlyList<ProjectionSlots?> projections, long[] processed)
    {
        DateTimeOffset? latest = null;
        var seconds = new List<(long Second, bool Ambiguous)>();
        for (var i = 0; i < projections.Count; i++)
        {
            var slots = projections[i];
            if (slots?.Changed is not { } changed)
            {
                continue;
            }

            (ReadModelChange At, bool Ambiguous)? mark = changed.Sequence <= processed[i]
                ? (changed, slots.ChangedBefore is { } before && Second(before.At) == Second(changed.At))
                // The change before the latest has no record of its own predecessor: its second may be shared.
                : slots.ChangedBefore is { } earlier && earlier.Sequence <= processed[i] ? (earlier, true) : null;
            if (mark is null)
            {
                return (null, false);
            }

            seconds.Add((Second(mark.Value.At.At), mark.Value.Ambiguous));
            latest = latest is null || mark.Value.At.At > latest ? mark.Value.At.At : latest;
        }

        if (latest is null)
        {
            return (null, false);
        }

        var last = Second(latest.Value);
        var inLastSecond = seconds.Where(s => s.Second == last).ToList();
        return (latest, inLastSecond.Count > 1 || inLastSecond.Any(s => s.Ambiguous));
    }

    private static long Second(DateTimeOffset at) => at.ToUnixTimeSeconds();

    /// <summary>
    /// Whether the slot a projection's reads come from serves <paramref name="coverage"/> (see
    /// <see cref="ProjectionSlots.NotBuilt"/>). A no is looked up again before it is given, so it is true now.
    /// </summary>
    public async Task<bool> ServesAsync(string projection, string coverage, CancellationToken cancellation)
    {
        if (Slots(projection) is { } slots && slots.Coverage.GetValueOrDefault(slots.Active)?.Contains(coverage) == true)
        {
            return true;
        }

        await RefreshAsync(cancellation);
        var current = Slots(projection);
        var hadOwnEvents = false;
        if (!ProjectionSlots.Recorded(current))
        {
            await using var session = _store.QuerySession();
            hadOwnEvents = await MartenTables.OwnEventsThroughAsync((Npgsql.NpgsqlConnection)session.Connection!,
                MartenTables.TypeNames(_store, _catalogue.Find(projection)!.Builder), Of(_catalogue.ShardOf(projection)), cancellation);
        }

        return ProjectionSlots.NotBuilt(current, [coverage], hadOwnEvents).Count == 0;
    }

    /// <summary>How long one shared look-up may take before it gives up (a database that does not answer).</summary>
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Looks the progress up now; concurrent callers share one query. A caller that gives up (its
    /// <paramref name="cancellation"/>) stops waiting for it, but the query goes on for the others.</summary>
    public Task RefreshAsync(CancellationToken cancellation)
    {
        Task shared;
        lock (_gate)
        {
            shared = _refreshing is { IsCompleted: false } running ? running : _refreshing = LoadAsync();
        }

        return shared.WaitAsync(cancellation);
    }

    private async Task LoadAsync()
    {
        // Its own time limit, none of its callers' tokens: a read whose min_sequence wait ran out must not cancel the
        // look-up the poller and every other waiting read share.
        using var limit = new CancellationTokenSource(LoadTimeout);
        var cancellation = limit.Token;
        var shards = await _store.Advanced.AllProjectionProgress(token: cancellation);
        var next = shards.ToFrozenDictionary(s => s.ShardName, s => s.Sequence);
        // Moved since the last look (a shard first seen after the first look has moved from 0).
        var previous = _current;
        if (_loaded && next.Any(shard => previous.GetValueOrDefault(shard.Key) != shard.Value))
        {
            var now = _clock.GetUtcNow();
            var moved = new Dictionary<string, DateTimeOffset>(_movedAt, StringComparer.Ordinal);
            foreach (var (shard, sequence) in next.Where(shard => previous.GetValueOrDefault(shard.Key) != shard.Value))
            {
                moved[shard] = now;
            }

            _movedAt = moved.ToFrozenDictionary(StringComparer.Ordinal);
        }

        _loaded = true;

        // Progress only moves back when a projection is rebuilt or the store is reset: cached responses keyed by the
        // old sequence numbers may not match the documents any more.
        if (_current.Any(previous => next.GetValueOrDefault(previous.Key) < previous.Value))
        {
            _cache.Clear();
        }

        // Read after the progress: a slot switch commits together with the progress it was made at, so the slots seen here
        // hold at least everything the progress above says. Published before the progress, so that a reader who looks
        // the progress up first and the slot afterwards never pairs a new progress with an older slot.
        await using var session = _store.QuerySession();
        var slots = await session.LoadManyAsync<ProjectionSlots>(cancellation, _catalogue.Names);
        _slots = slots.ToFrozenDictionary(s => s.Id);
        _current = next;
    }

    /// <summary>Waits until every shard has processed through <paramref name="sequence"/>; false when time runs out.</summary>
    public async Task<bool> WaitForAsync(IReadOnlyList<string> shards, long sequence, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_settings.Value.MinSequenceTimeout);
        try
        {
            while (true)
            {
                if (shards.All(s => Of(s) >= sequence))
                {
                    return true;
                }

                await RefreshAsync(timeout.Token);
                if (shards.All(s => Of(s) >= sequence))
                {
                    return true;
                }

                await Task.Delay(WaitPollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_settings.Value.ProgressPollInterval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Reads keep answering from the last known progress; the next tick tries again.
                _logger.LogWarning(e, "Could not read projection progress");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

namespace Projections.ReadModels;

/// <summary>The state of one rebuild, as <c>GET</c> on its status URL shows it.</summary>
public sealed class RebuildRun
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";

    public string Id { get; set; } = "";
    public string Status { get; set; } = Running;

    /// <summary>The slot the rebuild writes, which becomes the one read from when it completes.</summary>
    public string Target { get; set; } = "";

    /// <summary>Whether the target slot has been emptied (the first step of every rebuild).</summary>
    public bool Cleared { get; set; }

    /// <summary>The event sequence the rebuild has replayed through.</summary>
    public long Processed { get; set; }

    /// <summary>The event sequence through which the slot's stored documents reflect history: a rebuild keeps its
    /// documents in memory (<see cref="RebuildCache"/>) and writes them now and then. Null for a rebuild started by a
    /// version that wrote every chunk (its slot reflects <see cref="Processed"/>).</summary>
    public long? Written { get; set; }

    /// <summary>Where the slot's stored documents stand (see <see cref="Written"/>).</summary>
    public long WrittenThrough() => Written ?? Processed;

    /// <summary>The event sequence the live projection had reached when the rebuild last moved.</summary>
    public long Total { get; set; }

    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Error { get; set; }

    public double Percent => Status == Completed ? 100 : Total <= 0 ? 0 : Math.Round(Math.Min(100, 100.0 * Processed / Total), 1);
}

/// <summary>
/// Blue/green for one projection. Its documents live in two slots (Marten tenants of the projection's document types):
/// reads and live processing use <see cref="Active"/>; a rebuild fills the other slot from the start of the event store,
/// chunk by chunk inside the live projection's own batches (so no two writers ever touch a slot), and the batch that
/// catches it up with the live projection makes it the active one, in the same transaction as the documents and the
/// projection's progress. Written only by the projection itself.
/// </summary>
public sealed class ProjectionSlots
{
    public const string Blue = "blue";
    public const string Green = "green";
    private const int HistoryLength = 20;

    /// <summary>The projection's name.</summary>
    public string Id { get; set; } = "";

    public string Active { get; set; } = Blue;

    /// <summary>Starts at 1 and grows by one with every completed rebuild.</summary>
    public int Version { get; set; } = 1;

    /// <summary>The stream version of the last rebuild request processed (requests beyond it are pending).</summary>
    public long RequestVersion { get; set; }

    /// <summary>The rebuild in progress, if any.</summary>
    public RebuildRun? Rebuild { get; set; }

    /// <summary>The last rebuilds that finished, newest first.</summary>
    public List<RebuildRun> History { get; set; } = [];

    /// <summary>By slot: the coverage (<see cref="IReadModelBuilder.Coverage"/>) that slot has kept from the first event
    /// on, and so may serve. A rebuild's slot covers what the projection covered when it completed.</summary>
    public Dictionary<string, List<string>> Coverage { get; set; } = [];

    /// <summary>When the active slot's documents last changed: the projection batch that changed them (its time, and the
    /// sequence it processed through), or the rebuild that made the slot active. What <c>Last-Modified</c> says.</summary>
    public ReadModelChange? Changed { get; set; }

    /// <summary>The change before <see cref="Changed"/>: two changes within one second make that second's
    /// <c>If-Modified-Since</c> ambiguous.</summary>
    public ReadModelChange? ChangedBefore { get; set; }

    public static string Other(string slot) => slot == Blue ? Green : Blue;

    /// <summary>Records that the active slot's documents changed in a batch processed through <paramref name="sequence"/>.</summary>
    public void MarkChanged(DateTimeOffset at, long sequence)
    {
        ChangedBefore = Changed;
        Changed = new ReadModelChange(at, sequence);
    }

    /// <summary>Whether the active slot's coverage is recorded (from the projection's first batch of its own events on).</summary>
    public static bool Recorded(ProjectionSlots? slots) => slots?.Coverage.ContainsKey(slots.Active) == true;

    /// <summary>
    /// What of a projection's <paramref name="coverage"/> (<see cref="IReadModelBuilder.Coverage"/>) the active slot does
    /// not serve: what its recorded coverage lacks; with none recorded, everything when the projection
    /// <paramref name="hadOwnEvents"/> (applied before coverage was recorded), nothing otherwise (the slot will hold
    /// every event of its own from the first on).
    /// </summary>
    public static IReadOnlyList<string> NotBuilt(ProjectionSlots? slots, IReadOnlyList<string> coverage, bool hadOwnEvents)
    {
        if (Recorded(slots))
        {
            var kept = slots!.Coverage[slots.Active];
            return [.. coverage.Where(c => !kept.Contains(c))];
        }

        return hadOwnEvents ? coverage : [];
    }

    public RebuildRun? Find(string rebuildId) =>
        Rebuild?.Id == rebuildId ? Rebuild : History.FirstOrDefault(r => r.Id == rebuildId);

    /// <summary>Ends the rebuild in progress and keeps it in the history; a completed one's slot becomes the active one,
    /// covering <paramref name="coverage"/>.</summary>
    public void Finish(string status, DateTimeOffset at, string? error = null, IReadOnlyList<string>? coverage = null)
    {
        var run = Rebuild!;
        (run.Status, run.FinishedAt, run.Error) = (status, at, error);
        if (status == RebuildRun.Completed)
        {
            Active = run.Target;
            Version++;
            run.Processed = run.Total;
            Coverage[run.Target] = [.. coverage ?? []];
            // The reads now come from other documents: whatever they hold, they changed now.
            MarkChanged(at, run.Total);
        }

        History.Insert(0, run);
        if (History.Count > HistoryLength)
        {
            History.RemoveRange(HistoryLength, History.Count - HistoryLength);
        }

        Rebuild = null;
    }
}

/// <summary>A change of a read model's documents: when, and the event sequence the batch processed through.</summary>
public sealed record ReadModelChange(DateTimeOffset At, long Sequence);

using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>The <c>Projections</c> configuration section.</summary>
public sealed class ProjectionSettings : ISettings
{
    public static string Section => "Projections";

    /// <summary>Products whose available quantity is above 0 and at most this are low on stock, unless they set their own.</summary>
    public int LowStockThreshold { get; set; } = 5;

    /// <summary>How long a read with <c>min_sequence</c> waits for its read model to catch up before answering 503.</summary>
    public TimeSpan MinSequenceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often reads look up the projections' progress (the freshness of a read without <c>min_sequence</c>).</summary>
    public TimeSpan ProgressPollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Events per projection batch in the async daemon: one transaction per batch.</summary>
    public int BatchSize { get; set; } = 20000;

    /// <summary>At most this many documents per database command of a projection batch, loads and writes alike. Each command
    /// has the connection's command timeout (Npgsql's <c>Command Timeout</c>, 30 s by default) to itself, so a batch that
    /// touches many documents takes more commands instead of outrunning the timeout.</summary>
    public int RowsPerCommand { get; set; } = 1000;

    /// <summary>At most this many events of history are replayed into the slot being rebuilt per projection batch.</summary>
    public int RebuildChunkSize { get; set; } = 20000;

    /// <summary>How long one projection batch goes on replaying chunks of history while a rebuild runs (at least one chunk
    /// per batch). Longer batches cost less per event; the live slot's changes of the batch wait for it to commit.</summary>
    public TimeSpan RebuildBatchTime { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Megabytes of rebuilt documents one node keeps in memory while rebuilding, shared equally by the
    /// projections: beyond its share, a rebuild writes its documents and keeps only the most recently changed.</summary>
    public double RebuildMemory { get; set; } = 40;

    /// <summary>How often PostgreSQL checks that a busy connection's client is still alive (PostgreSQL 14+; zero turns the
    /// check off, for older servers): the statement of a node killed mid-query stops within seconds, with its locks.</summary>
    public TimeSpan DeadClientCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Start the service's database sessions with planner costs for an in-memory working set and without
    /// parallel query, as defaults of its role in its database (see <see cref="SessionDefaults"/>). Turn off to leave the
    /// role's planner settings as they are.</summary>
    public bool TuneQueryPlanner { get; set; } = true;

    /// <summary>Create or update the database schema at startup. Turn off where the service's database user may not
    /// change the schema, and apply it with <c>ops/schema-apply</c> instead.</summary>
    public bool ApplySchemaOnStartup { get; set; } = true;

    /// <summary>Run the async daemon in this process (HotCold: one node runs each projection, the others stand by).</summary>
    public bool RunDaemon { get; set; } = true;

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (LowStockThreshold < 0)
        {
            yield return "Projections:LowStockThreshold must not be negative.";
        }

        if (MinSequenceTimeout <= TimeSpan.Zero || ProgressPollInterval <= TimeSpan.Zero)
        {
            yield return "Projections:MinSequenceTimeout and Projections:ProgressPollInterval must be longer than zero.";
        }

        if (BatchSize < 1 || RebuildChunkSize < 1 || RowsPerCommand < 1)
        {
            yield return "Projections:BatchSize, Projections:RebuildChunkSize and Projections:RowsPerCommand must be at least 1.";
        }

        if (RebuildBatchTime < TimeSpan.Zero || RebuildMemory < 0)
        {
            yield return "Projections:RebuildBatchTime and Projections:RebuildMemory must not be negative.";
        }

        if (DeadClientCheckInterval < TimeSpan.Zero)
        {
            yield return "Projections:DeadClientCheckInterval must not be negative (0 turns the check off).";
        }
    }
}

using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Projections.Hosting;

namespace Projections.Ingest;

/// <summary>The <c>Ingest</c> configuration section: how much ingest work one node takes on at once.</summary>
public sealed class IngestSettings : ISettings
{
    public static string Section => "Ingest";

    /// <summary>
    /// Batches of <c>POST /api/events</c> one node reads, validates and appends at once (0: no limit). Twice the cores:
    /// the benchmark's four publishers on two cores are never held back, where one batch per core cost its ingest 16% in
    /// a pair of runs at small (10,900 against 13,000 events/s published; a shared machine) with no gain for the reads
    /// beyond the noise; more batches at once than this only add parsing and memory, since appends take turns anyway.
    /// </summary>
    public int MaxConcurrentBatches { get; set; } = 2 * Environment.ProcessorCount;

    /// <summary>Batches that wait for their turn, oldest first, beyond <see cref="MaxConcurrentBatches"/>; one more is
    /// answered 503 with <c>Retry-After</c>.</summary>
    public int MaxQueuedBatches { get; set; } = 32;

    /// <summary>
    /// Events the projections may be behind the newest stored event before <c>POST /api/events</c> answers 503 with
    /// <c>Retry-After</c> (0: no bound). Publishers at full speed outrun the projections on a small machine, and without a
    /// bound the lag, and with it what a dashboard is behind, grows for as long as they do (45 s after two minutes in the
    /// benchmark). Five daemon batches (<c>Projections:BatchSize</c>): the lag of a daemon that keeps up stays within
    /// one or two.
    /// </summary>
    public long MaxProjectionLag { get; set; } = 100_000;

    /// <summary>A projection whose progress has not moved for this long is not waited for by
    /// <see cref="MaxProjectionLag"/>: one that stands still (stopped, failing, or on no node) is not catching up, so
    /// holding ingest back would only stop it; its lag shows in the projections' status.</summary>
    public TimeSpan StalledProjectionAfter { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (MaxProjectionLag < 0 || StalledProjectionAfter <= TimeSpan.Zero)
        {
            yield return "Ingest:MaxProjectionLag must not be negative (0: no bound) and Ingest:StalledProjectionAfter must be longer than zero.";
        }

        if (MaxConcurrentBatches < 0 || MaxQueuedBatches < 0)
        {
            yield return "Ingest:MaxConcurrentBatches and Ingest:MaxQueuedBatches must not be negative (MaxConcurrentBatches 0: no limit).";
        }
    }
}

/// <summary>
/// Bounds the work ingest takes on at once: <c>POST /api/events</c> runs at most
/// <see cref="IngestSettings.MaxConcurrentBatches"/> batches on this node (appends take turns in the database anyway, so
/// more at once only adds parsing and validation competing with the reads for the cores and the collector), lets
/// <see cref="IngestSettings.MaxQueuedBatches"/> more wait their turn, oldest first, and answers any beyond with 503 and
/// <c>Retry-After</c>, as for a database that is away, which publishers already honour. Nothing of a refused batch is
/// read or stored. The limit counts only callers allowed to publish: it runs after authorization.
/// </summary>
public sealed class IngestConcurrency(IngestSettings settings) : IRateLimiterPolicy<string>
{
    public const string Policy = "ingest";

    /// <summary>Seconds a refused publisher waits: a batch takes tens of milliseconds, so the shortest HTTP allows.</summary>
    public const int RetryAfterSeconds = 1;

    public static void Add(WebApplicationBuilder builder)
    {
        var settings = builder.AddSettings<IngestSettings>();
        builder.Services.AddRateLimiter(options => options.AddPolicy(Policy, new IngestConcurrency(settings)));
    }

    /// <summary>One limiter for the node: every publisher shares it.</summary>
    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => settings.MaxConcurrentBatches == 0
        ? RateLimitPartition.GetNoLimiter(Policy)
        : RateLimitPartition.GetConcurrencyLimiter(Policy, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.MaxConcurrentBatches,
            QueueLimit = settings.MaxQueuedBatches,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, _) =>
    {
        context.HttpContext.RequestServices.GetRequiredService<ProjectionsMetrics>().Refused(RefusalReason.Concurrency);
        context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        await Problems.Write(context.HttpContext, StatusCodes.Status503ServiceUnavailable, "Busy",
            $"This node is ingesting {settings.MaxConcurrentBatches} batches with {settings.MaxQueuedBatches} more waiting " +
            "(Ingest:MaxConcurrentBatches, Ingest:MaxQueuedBatches); nothing of this batch was stored. Send it again after Retry-After.");
    };
}

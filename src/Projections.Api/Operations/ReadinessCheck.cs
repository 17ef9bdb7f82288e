using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Projections.Hosting;

namespace Projections.Operations;

/// <summary>The <c>Health</c> configuration section.</summary>
public sealed class HealthSettings : ISettings
{
    public static string Section => "Health";

    /// <summary>Not ready while any projection is further behind the high-water mark than this many events.</summary>
    public long MaxLagEvents { get; set; } = 100_000;

    /// <summary>Not ready when an event has waited this long for the high-water mark or a projection to reach it.</summary>
    public TimeSpan StalledAfter { get; set; } = TimeSpan.FromSeconds(60);

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (MaxLagEvents < 0 || StalledAfter < TimeSpan.Zero)
        {
            yield return "Health:MaxLagEvents and Health:StalledAfter must not be negative.";
        }
    }
}

/// <summary>
/// Ready when the database answers, no projection has failed, is retrying a failed batch or has fallen more than
/// <see cref="HealthSettings.MaxLagEvents"/> behind, and no event has waited longer than
/// <see cref="HealthSettings.StalledAfter"/> for the high-water mark or a projection to reach it (which also catches a
/// daemon that is not running anywhere). The probe is anonymous, so its answer names what is wrong but carries no
/// figure, sequence or error text (the admin status route has those); and the checks run at most once a second
/// however often it is asked, all callers of that second sharing one run, so a storm of probes costs the database nothing.
/// </summary>
public sealed class ReadinessCheck(ProjectionStatus status, IOptions<HealthSettings> settings, TimeProvider clock, ILogger<ReadinessCheck> logger)
    : IHealthCheck
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _latest;
    private DateTimeOffset _latestStarted = DateTimeOffset.MinValue;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (_latest is null || (_latest.IsCompleted && now - _latestStarted >= CheckInterval))
            {
                (_latest, _latestStarted) = (CheckAsync(), now);
            }

            return _latest.WaitAsync(cancellationToken);
        }
    }

    private async Task<HealthCheckResult> CheckAsync()
    {
        ProjectionsReport report;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            report = await status.ReadAsync(timeout.Token);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Readiness: the database is not reachable");
            return HealthCheckResult.Unhealthy("the database is not reachable");
        }

        var limits = settings.Value;
        var stalled = limits.StalledAfter.TotalSeconds;
        if (report.HighWaterLagSeconds > stalled)
        {
            return HealthCheckResult.Unhealthy("events are waiting for the high-water mark: is the async daemon running?");
        }

        foreach (var projection in report.Projections)
        {
            var problem = projection switch
            {
                { Status: "failed" } => "has failed",
                { Status: ProjectionStatus.Retrying } => "is retrying after an error",
                _ when projection.LagEvents > limits.MaxLagEvents => "is too far behind",
                _ when projection.LagSeconds > stalled => "is not keeping up",
                _ => null,
            };
            if (problem is not null)
            {
                return HealthCheckResult.Unhealthy($"projection {projection.Name} {problem}");
            }
        }

        return HealthCheckResult.Healthy("every projection is keeping up");
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Projections.Operations;

/// <summary>The <c>Health</c> configuration section.</summary>
public sealed class HealthSettings
{
    public const string Section = "Health";

    /// <summary>Not ready while any projection is further behind the high-water mark than this many events.</summary>
    public long MaxLagEvents { get; set; } = 100_000;

    /// <summary>Not ready when an event has waited this long for the high-water mark or a projection to reach it.</summary>
    public TimeSpan StalledAfter { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Ready when the database answers, no projection has failed or fallen more than <see cref="HealthSettings.MaxLagEvents"/>
/// behind, and no event has waited longer than <see cref="HealthSettings.StalledAfter"/> for the high-water mark or a
/// projection to reach it (which also catches a daemon that is not running anywhere).
/// </summary>
public sealed class ReadinessCheck(ProjectionStatus status, IOptions<HealthSettings> settings) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ProjectionsReport report;
        try
        {
            report = await status.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The database is not reachable.", e);
        }

        var limits = settings.Value;
        var stalled = limits.StalledAfter.TotalSeconds;
        if (report.HighWaterLagSeconds > stalled)
        {
            return HealthCheckResult.Unhealthy($"The high-water mark ({report.HighWaterMark}) is behind the last event ({report.LastEvent}) " +
                                               $"by {report.HighWaterLagSeconds:F0} s: is the async daemon running?");
        }

        foreach (var projection in report.Projections)
        {
            if (projection.Status == "failed")
            {
                return HealthCheckResult.Unhealthy($"Projection {projection.Name} has failed: {projection.LastError}");
            }

            if (projection.LagEvents > limits.MaxLagEvents)
            {
                return HealthCheckResult.Unhealthy($"Projection {projection.Name} is {projection.LagEvents} events behind (more than {limits.MaxLagEvents}).");
            }

            if (projection.LagSeconds > stalled)
            {
                return HealthCheckResult.Unhealthy($"Projection {projection.Name} is {projection.LagEvents} events and {projection.LagSeconds:F0} s behind.");
            }
        }

        return HealthCheckResult.Healthy($"High-water mark {report.HighWaterMark}; every projection within {limits.MaxLagEvents} events " +
                                         $"and {stalled:F0} s of it.");
    }
}

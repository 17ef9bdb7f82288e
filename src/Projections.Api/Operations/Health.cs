using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Projections.Hosting;

namespace Projections.Operations;

/// <summary>
/// What operators rely on: the projections' status (read from the database, so any node answers for the cluster), the
/// record of batches the daemon retries, and the probes for orchestrators (Kubernetes): anonymous, 200 when healthy and
/// 503 when not, with a short text body.
/// </summary>
public static class Health
{
    private const string Ready = "ready";

    public static WebApplicationBuilder AddProjectionsOperations(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ProjectionStatus>();
        builder.Services.AddHostedService<ProjectionFaults>();
        builder.Services.ConfigureMarten(opts => opts.RegisterDocumentType<ProjectionFault>());
        builder.AddSettings<HealthSettings>();
        // One instance, so that its once-a-second result is shared by every probe.
        builder.Services.AddSingleton<ReadinessCheck>();
        builder.Services.AddHealthChecks().AddCheck<ReadinessCheck>("projections", tags: [Ready], timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // Liveness: the process is up and serving HTTP; nothing else is checked, so a database outage never restarts it.
        app.MapGet("/health/live", () => Results.Text("Healthy")).AllowAnonymous().WithTags("Health");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResponseWriter = (context, report) =>
            {
                context.Response.ContentType = "text/plain; charset=utf-8";
                context.Response.Headers.CacheControl = "no-store";
                // One plain line: "Healthy" or "Unhealthy: projection GalleryAnalytics is retrying after an error".
                var problems = report.Entries.Values.Where(e => e.Status != HealthStatus.Healthy).Select(e => e.Description ?? "check failed");
                var detail = string.Join("; ", problems);
                return context.Response.WriteAsync(detail.Length == 0 ? $"{report.Status}\n" : $"{report.Status}: {detail}\n");
            },
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous().WithTags("Health");
        return app;
    }
}

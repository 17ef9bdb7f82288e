using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Projections.Operations;

namespace Projections.Hosting;

/// <summary>Probes for orchestrators (Kubernetes): anonymous, 200 when healthy and 503 when not, with a short text body.</summary>
public static class Health
{
    private const string Ready = "ready";

    public static WebApplicationBuilder AddProjectionsHealth(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<HealthSettings>(builder.Configuration.GetSection(HealthSettings.Section));
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
                var detail = string.Join("; ", report.Entries.Values.Select(e => e.Description));
                return context.Response.WriteAsync($"{report.Status}: {detail}");
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

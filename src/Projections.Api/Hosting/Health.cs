namespace Projections.Hosting;

public static class Health
{
    /// <summary>Liveness: the process is up and serving HTTP (anonymous, for probes and scripts).</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => Results.Text("Healthy")).AllowAnonymous().WithTags("Health");
        return app;
    }
}

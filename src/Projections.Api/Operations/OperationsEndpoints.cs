using Projections.Auth;

namespace Projections.Operations;

public static class OperationsEndpoints
{
    /// <summary><c>GET /api/admin/projections</c>: high-water mark, each projection's status, progress and lag, dead letters.</summary>
    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/admin/projections", async (ProjectionStatus status, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(await status.ReadAsync(context.RequestAborted));
        }).WithTags("Operations").RequireAuthorization(AuthSetup.AdminOnly);
        return app;
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Projections.Tests.Browser;

/// <summary>
/// A dashboard's own web server: one static page on loopback ports of its own. Each port is an origin other than the
/// service's, so the page's scripts read the service cross-origin, as a dashboard does.
/// </summary>
public sealed class PageServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PageServer(WebApplication app) => _app = app;

    public static async Task<PageServer> StartAsync(string html, params int[] ports)
    {
        // The empty builder reads no configuration and logs nothing: the service's settings in the environment stay its own.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            foreach (var port in ports)
            {
                kestrel.Listen(IPAddress.Loopback, port);
            }
        });
        var app = builder.Build();
        app.Run(async context =>
        {
            if (context.Request.Path != "/")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(html, context.RequestAborted);
        });
        await app.StartAsync();
        return new PageServer(app);
    }

    public static string Origin(int port) => $"http://127.0.0.1:{port}";

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

// OperatorConsole/: the operator's console, a page in the browser at /console (wwwroot/: its HTML, scripts and styles).
// It shows the projections, their lag, rebuilds, set-aside events, ingest rates and readiness, and acts on them through
// the public admin routes, with the token the operator pastes. Uses Hosting.
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Projections.Hosting;

namespace Projections.OperatorConsole;

/// <summary>
/// Serves the console's files, which are embedded in the assembly (so every way of running the service has them, and
/// they cannot drift from the routes they call). The files hold no data and are served to anyone; every figure on the
/// page comes from an admin route the page calls with the operator's token, as <c>ops/projections</c> does.
/// </summary>
public static class ConsoleEndpoints
{
    public const string Path = "/console";

    /// <summary>Only the console's own scripts and styles run, it talks to this service only, and no form or frame can send
    /// anything elsewhere: a pasted token has nowhere to go but the <c>Authorization</c> header of the page's own calls.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "console/";
    private const string PrometheusMeta = """<meta name="prometheus-path" content="/prometheus">""";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    public static WebApplication MapConsole(this WebApplication app)
    {
        var telemetry = app.Services.GetRequiredService<IOptions<TelemetrySettings>>().Value;
        var files = Load(telemetry.Prometheus ? telemetry.PrometheusPath : "");

        app.MapGet(Path + "/{file?}", (string? file, HttpContext context) =>
        {
            // The page's relative links need the trailing slash (routing matches /console and /console/ alike).
            if (file is null && !context.Request.Path.Value!.EndsWith('/'))
            {
                return Results.Redirect($"{context.Request.PathBase}{Path}/");
            }

            if (!files.TryGetValue(file ?? "index.html", out var found))
            {
                return Results.NotFound();
            }

            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            // Always asked again (a 304 while unchanged), so a new version of the service brings its console at once.
            headers.CacheControl = "no-cache";
            return Results.Bytes(found.Content, found.ContentType, entityTag: found.ETag);
        }).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private sealed record ConsoleFile(byte[] Content, string ContentType, EntityTagHeaderValue ETag);

    /// <summary>The embedded files by name. The page learns where the Prometheus endpoint is (<c>Telemetry:PrometheusPath</c>,
    /// empty when it is off) from a meta tag written here: a setting, never a figure.</summary>
    private static Dictionary<string, ConsoleFile> Load(string prometheusPath)
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        var files = new Dictionary<string, ConsoleFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            if (name == "index.html")
            {
                var html = Encoding.UTF8.GetString(content);
                if (!html.Contains(PrometheusMeta, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The console's index.html lacks {PrometheusMeta}, where the Prometheus path is written.");
                }

                content = Encoding.UTF8.GetBytes(html.Replace(PrometheusMeta,
                    $"""<meta name="prometheus-path" content="{HtmlEncoder.Default.Encode(prometheusPath)}">""", StringComparison.Ordinal));
            }

            var type = ContentTypes.GetValueOrDefault(System.IO.Path.GetExtension(name))
                       ?? throw new InvalidOperationException($"The console's file {name} has no known content type.");
            files[name] = new ConsoleFile(content, type, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\""));
        }

        return files.ContainsKey("index.html")
            ? files
            : throw new InvalidOperationException("The console's files are not embedded in the assembly (OperatorConsole/wwwroot).");
    }
}

using System.Text.RegularExpressions;
using Alba;
using Projections.OperatorConsole;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.OperatorConsole;

/// <summary>
/// The console's files: served to anyone (they hold no data), each with the Content-Security-Policy that lets only the
/// console's own scripts run and talk only to this service; every file the page loads is there; nothing else is.
/// </summary>
public sealed partial class ConsoleFilesTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task The_page_and_every_file_it_loads_are_served_without_a_token_with_the_policy()
    {
        var page = await GetAsync("/console/", "text/html; charset=utf-8");
        Assert.Contains("""<meta name="prometheus-path" content="/prometheus">""", page);

        // What index.html loads, and what its scripts import, transitively.
        var pending = new Queue<string>(Referenced().Matches(page).Select(m => m.Groups["file"].Value));
        var served = new HashSet<string>();
        while (pending.TryDequeue(out var file))
        {
            if (!served.Add(file))
            {
                continue;
            }

            var type = Path.GetExtension(file) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                var other => throw new InvalidOperationException($"index.html loads {file}, of no known type {other}"),
            };
            var text = await GetAsync($"/console/{file}", type);
            foreach (Match import in Imported().Matches(text))
            {
                pending.Enqueue(import.Groups["file"].Value);
            }
        }

        Assert.Equal(["api.js", "chart.js", "console.css", "console.js", "icon.svg", "prometheus.js"], served.Order());
    }

    [Fact]
    public async Task Console_without_the_slash_is_redirected_and_an_unknown_file_is_404()
    {
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/console");
            s.StatusCodeShouldBe(302);
            s.Header("Location").SingleValueShouldEqual("/console/");
        });
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/console/secrets.json");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task An_unchanged_file_is_answered_304()
    {
        var first = await App.Host.Scenario(s => s.Get.Url("/console/console.js"));
        var etag = first.Context.Response.Headers.ETag.ToString();
        Assert.NotEmpty(etag);
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/console/console.js");
            s.WithRequestHeader("If-None-Match", etag);
            s.StatusCodeShouldBe(304);
        });
    }

    [Fact]
    public async Task The_page_is_told_when_the_Prometheus_endpoint_is_off()
    {
        await using var host = AppFixture.Build(b => b.UseSetting("Telemetry:Prometheus", "false"));
        var result = await host.Scenario(s => s.Get.Url("/console/"));
        Assert.Contains("""<meta name="prometheus-path" content="">""", await result.ReadAsTextAsync());
    }

    private async Task<string> GetAsync(string url, string contentType)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(200);
            s.ContentTypeShouldBe(contentType);
            s.Header("Content-Security-Policy").SingleValueShouldEqual(ConsoleEndpoints.ContentSecurityPolicy);
            s.Header("X-Content-Type-Options").SingleValueShouldEqual("nosniff");
        });
        return await result.ReadAsTextAsync();
    }

    [GeneratedRegex(@"(?:src|href)=""(?<file>[a-z.]+)""")]
    private static partial Regex Referenced();

    [GeneratedRegex("""^import .* from "\./(?<file>[a-z.]+)";$""", RegexOptions.Multiline)]
    private static partial Regex Imported();
}

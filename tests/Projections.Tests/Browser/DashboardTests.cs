using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;
using Xunit.Abstractions;
using static Projections.Tests.Analytics.AnalyticsApi;

namespace Projections.Tests.Browser;

/// <summary>
/// The README's dashboard example in a real browser (headless Chromium), on another origin than the service's: on an
/// origin listed in <c>Cors:AllowedOrigins</c> it reads the analytics with its token, shows the order count and when
/// it last changed, and a new order appears on it within 2 s through the live stream; on an origin not listed, the
/// browser refuses the service's answers to the page.
/// </summary>
public sealed class DashboardTests(DashboardFixture dashboard, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    private static readonly DateTimeOffset March = new(2024, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LiveWithin = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_dashboard_on_a_listed_origin_shows_the_orders_and_a_new_order_within_2_seconds()
    {
        var service = dashboard.Service;
        var first = await PublishAsync(OrderPlaced("o-browser-1", March, ("org-a", 1, 10.00m)));
        var answer = await service.ReadAsync($"{Route}?{DashboardFixture.Query}", first);
        Assert.Equal(1, answer.GetProperty("analytics").GetProperty("overview").GetProperty("totalOrders").GetInt32());
        var lastModified = await LastModifiedAsync(first);

        await using var tab = await BrowserTab.OpenAsync(dashboard.Browser, dashboard.ListedOrigin + "/");
        await tab.ExpectTextAsync("#orders", "1", TimeSpan.FromSeconds(15),
            $"The dashboard on {dashboard.ListedOrigin} (listed in Cors:AllowedOrigins) did not show the order count read from {dashboard.Api}");
        Assert.True(lastModified is not null, $"GET {Route} answered no Last-Modified, which the dashboard shows as \"data as of\"");
        Assert.Equal(lastModified.Value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            await tab.Page.Locator("#as-of").GetAttributeAsync("datetime"));
        await tab.ExpectTextAsync("#status", "live", TimeSpan.FromSeconds(5),
            "The dashboard's live stream (the same route with Accept: text/event-stream) did not open: the service must answer 200 at once");

        var clock = Stopwatch.StartNew();
        await PublishAsync(OrderPlaced("o-browser-2", March, ("org-b", 2, 5.00m)));
        var left = LiveWithin - clock.Elapsed;
        Assert.True(left > TimeSpan.Zero, $"publishing took {clock.Elapsed.TotalMilliseconds:0} ms, leaving no time for the page");
        await tab.ExpectTextAsync("#orders", "2", left, $"The dashboard did not show the new order within {LiveWithin.TotalSeconds} s of its publishing");
        output.WriteLine($"The new order was on the page {clock.Elapsed.TotalMilliseconds:0} ms after it was published.");
        Assert.True(clock.Elapsed <= LiveWithin, $"the new order took {clock.Elapsed.TotalMilliseconds:0} ms");

        // "data as of" moved on with the figure: the page shows when the update came.
        var asOf = DateTimeOffset.Parse((await tab.Page.Locator("#as-of").GetAttributeAsync("datetime"))!, CultureInfo.InvariantCulture);
        Assert.True(asOf > lastModified.Value, $"data as of {asOf:O} after the update, the first answer's Last-Modified being {lastModified.Value:O}");
    }

    [Fact]
    public async Task A_page_on_an_origin_not_listed_cannot_read_the_service()
    {
        await using var tab = await BrowserTab.OpenAsync(dashboard.Browser, dashboard.OtherOrigin + "/");
        await tab.ExpectTextAsync("#status", "cannot read: Failed to fetch", TimeSpan.FromSeconds(15),
            $"The page on {dashboard.OtherOrigin} (not listed) should find the service's answer refused");
        Assert.Equal("…", await tab.TextAsync("#orders"));
        Assert.True(tab.Messages.Any(m => m.Contains("blocked by CORS policy", StringComparison.Ordinal)),
            $"the browser should say that CORS blocked the read:\n{await tab.DescribeAsync()}");

        // The same request, made by the page's own script: the browser refuses it, whatever the page does.
        var url = $"{dashboard.Api}{Route}?{DashboardFixture.Query}";
        var error = await tab.Page.EvaluateAsync<string>(
            """
            async ([url, token]) => {
              try {
                const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
                return `read: ${response.status}`;
              } catch (e) {
                return `${e.name}: ${e.message}`;
              }
            }
            """, new[] { url, TestTokens.Admin });
        Assert.Equal("TypeError: Failed to fetch", error);

        // Not because the service is away: it answers a client that is not a browser, just with nothing that lets a
        // browser hand the answer to that origin's page.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}?{DashboardFixture.Query}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        request.Headers.Add("Origin", dashboard.OtherOrigin);
        using var response = await dashboard.Service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"),
            $"an origin not listed got Access-Control-Allow-Origin: {string.Join(", ", response.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v : [])}");
    }

    private async Task<long> PublishAsync(JsonObject order) =>
        (await ServiceProcess.PublishUntilAcceptedAsync(() => dashboard.Service.Client, [order])).Receipt.LastSequence;

    /// <summary>The Last-Modified of the dashboard's answer, read as a plain client once the service has <paramref name="sequence"/>.</summary>
    private async Task<DateTimeOffset?> LastModifiedAsync(long sequence)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Route}?{DashboardFixture.Query}&min_sequence={sequence}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        using var response = await dashboard.Service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Content.Headers.LastModified;
    }
}

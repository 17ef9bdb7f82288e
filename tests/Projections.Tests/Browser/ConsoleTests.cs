using Deque.AxeCore.Playwright;
using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Projections.Orders;
using Projections.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Projections.Tests.Browser;

/// <summary>
/// The operator's console (<c>/console</c>) in headless Chromium against the service as a real process: an admin signs
/// in with a pasted token, sees the projections running, rebuilds <c>GalleryAnalytics</c> while events arrive and
/// watches it reach 100% and the version go up, and replays a set-aside event; a token without the admin role is
/// refused; the token stays in sessionStorage and out of every URL; a lost connection is shown. Every request the page
/// makes is a route of the public API document. Each state is written as a screenshot under docs/console/.
/// </summary>
public sealed class ConsoleTests(ConsoleFixture console, ITestOutputHelper output) : IClassFixture<ConsoleFixture>
{
    private static readonly string[] Projections = ["UserMetrics", "InventoryMetrics", "GalleryAnalytics", "ReferralAnalytics"];
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    private static string Row(string projection) => $"#projections-table tr[data-projection='{projection}']";

    private static string Cell(string projection, string field) => $"{Row(projection)} [data-field='{field}']";

    private const string GalleryRebuild = "#rebuilds li[data-projection='GalleryAnalytics']";

    [Fact]
    public async Task An_admin_sees_the_projections_running_and_rebuilds_GalleryAnalytics_to_100_percent_while_events_arrive()
    {
        var admin = TestTokens.Admin; // a token is minted at each call
        await using var tab = await console.OpenAsync();
        await ConsoleFixture.SignInAsync(tab, admin);
        foreach (var projection in Projections)
        {
            await tab.ExpectTextAsync(Cell(projection, "status"), "running", Soon, $"{projection} is not shown running");
            await tab.ExpectTextAsync(Cell(projection, "lag-events"), "0", Soon, $"{projection} did not catch up");
        }

        await tab.ExpectTextAsync("#health-state", "Ready", Soon, "the readiness probe is not shown");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#ingest-events-rate")).Not.ToHaveTextAsync("–", new() { Timeout = 15_000 }),
            "no ingest rate after two scrapes");
        await tab.ExpectTextAsync("#connection", $"Connected to 127.0.0.1:{console.Service.Port}: refreshed every second", Soon, "not connected");
        var version = int.Parse(await tab.TextAsync(Cell("GalleryAnalytics", "version")));
        await ConsoleFixture.ScreenshotAsync(tab, "projections");
        await AssertAccessibleAsync(tab, "the console with the projections");

        // Events arrive throughout the rebuild: the rest of the shop, then its first batches again (duplicates).
        using var stopPublishing = new CancellationTokenSource();
        var published = new List<(DateTimeOffset At, int Accepted)>();
        var duplicatesSent = new TaskCompletionSource();
        var publisher = Task.Run(() => PublishUntilStoppedAsync(published, duplicatesSent, stopPublishing.Token));

        await tab.Page.ClickAsync($"{Row("GalleryAnalytics")} button.rebuild");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#confirm")).ToBeVisibleAsync(), "the rebuild asks for no confirmation");
        await tab.ExpectTextAsync("#confirm-title", "Rebuild GalleryAnalytics?", Soon, "the confirmation names another projection");
        await ConsoleFixture.ScreenshotAsync(tab, "rebuild-confirm");
        var requested = DateTimeOffset.UtcNow;
        await tab.Page.ClickAsync("#confirm-ok");

        await tab.ExpectAsync(() => Expect(tab.Page.Locator($"{GalleryRebuild} progress")).ToBeVisibleAsync(new() { Timeout = 15_000 }),
            "no progress bar after the rebuild was confirmed");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator($"{GalleryRebuild} .rebuild-figures")).ToContainTextAsync("%", new() { Timeout = 15_000 }),
            "the progress bar shows no percentage");
        // The first progress beyond 0 (or the end, if the rebuild is quicker than the page's once-a-second look).
        await tab.ExpectAsync(() => tab.Page.WaitForFunctionAsync(
                $"() => {{ const item = document.querySelector(\"{GalleryRebuild}\"); return item.dataset.status !== 'running' || item.querySelector('progress').value > 0; }}",
                null, new() { Timeout = 60_000 }),
            "the progress bar did not move");
        await ConsoleFixture.ScreenshotAsync(tab, "rebuild-running");
        output.WriteLine($"While running: {await tab.TextAsync($"{GalleryRebuild} .rebuild-figures")}");

        await tab.ExpectAsync(() => Expect(tab.Page.Locator(GalleryRebuild)).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 120_000 }),
            "the rebuild did not complete within 2 minutes");
        var completed = DateTimeOffset.UtcNow;
        await tab.ExpectAsync(() => Expect(tab.Page.Locator($"{GalleryRebuild} progress")).ToHaveJSPropertyAsync("value", 100),
            "the progress bar did not reach 100%");
        await tab.ExpectTextAsync(Cell("GalleryAnalytics", "version"), $"{version + 1}", Soon, "the version did not go up");
        await tab.ExpectTextAsync(Cell("GalleryAnalytics", "status"), "running", Soon, "GalleryAnalytics is not running after its rebuild");
        output.WriteLine($"Completed: {await tab.TextAsync($"{GalleryRebuild} .rebuild-figures")}");

        lock (published)
        {
            Assert.True(published.Any(p => p.At > requested && p.At < completed && p.Accepted > 0),
                $"no new event was stored while the rebuild ran ({published.Count} batches published)");
        }

        // The ingest panel counts what is stored and what is skipped as a duplicate.
        await duplicatesSent.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#ingest-duplicates-rate")).ToHaveTextAsync(new Regex("^[1-9]"), new() { Timeout = 15_000 }),
            "the duplicates sent again are not counted");
        await ConsoleFixture.ScreenshotAsync(tab, "rebuild-completed");
        await stopPublishing.CancelAsync();
        await publisher;

        await tab.Page.SetViewportSizeAsync(390, 844);
        await ConsoleFixture.ScreenshotAsync(tab, "phone", fullPage: false);

        AssertOnlyPublicRoutesWithTheToken(tab, admin);
        await AssertTheBrowserComplainedOfNothingAsync(tab);
    }

    [Fact]
    public async Task An_admin_replays_a_set_aside_event_and_sees_it_still_fail()
    {
        var poison = await StoreBeforeTheLimitsAsync(new OrderPlaced("o-console-poison",
            [new OrderItem("p-1", "org-a", 2, 79_000_000_000_000_000_000_000_000_000m)], null, null, "USD", new DateTimeOffset(2024, 6, 3, 10, 0, 0, TimeSpan.Zero)));
        var admin = TestTokens.Admin; // a token is minted at each call
        await using var tab = await console.OpenAsync();
        await ConsoleFixture.SignInAsync(tab, admin);

        var row = $"#dead-letters-table tr[data-event='{poison}']";
        await tab.ExpectAsync(() => Expect(tab.Page.Locator(row)).ToBeVisibleAsync(new() { Timeout = 30_000 }), "the set-aside event is not listed");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator(row)).ToContainTextAsync("OverflowException"), "the reason is not shown");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator(Cell("GalleryAnalytics", "last-error"))).ToContainTextAsync(poison.ToString()),
            "the projection's last error does not name the set-aside event");
        await ConsoleFixture.ScreenshotAsync(tab, "set-aside");

        await tab.Page.ClickAsync("#replay-all");
        await tab.Page.ClickAsync("#confirm-ok");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#replay-result")).ToContainTextAsync("0 applied, 1 still set aside", new() { Timeout = 30_000 }),
            "the replay's outcome is not shown");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator($"{row} td[data-label='Attempts']")).ToHaveTextAsync("2", new() { Timeout = 15_000 }),
            "the list does not show the second attempt");
        AssertOnlyPublicRoutesWithTheToken(tab, admin);
        await AssertTheBrowserComplainedOfNothingAsync(tab);
    }

    [Fact]
    public async Task A_token_without_the_admin_role_is_refused_and_not_kept()
    {
        await using var tab = await console.OpenAsync();
        var staff = TestTokens.For("staff", "view_customers", "manage_inventory");
        await ConsoleFixture.SignInAsync(tab, staff);
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#sign-in-error")).ToContainTextAsync("does not have the admin role", new() { Timeout = 15_000 }),
            "a staff token is not clearly refused");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#console")).ToBeHiddenAsync(), "the console is shown to a staff token");
        Assert.Null(await StoredTokenAsync(tab));
        await ConsoleFixture.ScreenshotAsync(tab, "refused");
        await AssertAccessibleAsync(tab, "the sign-in with its refusal");

        await ConsoleFixture.SignInAsync(tab, "not-a-token");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#sign-in-error")).ToContainTextAsync("did not accept this token", new() { Timeout = 15_000 }),
            "a token that is no JWT is not refused");
        Assert.Null(await StoredTokenAsync(tab));
    }

    [Fact]
    public async Task The_token_is_kept_in_session_storage_and_never_in_a_url()
    {
        var admin = TestTokens.Admin; // a token is minted at each call
        await using var tab = await console.OpenAsync();
        await ConsoleFixture.SignInAsync(tab, admin);
        await tab.ExpectTextAsync(Cell("UserMetrics", "status"), "running", Soon, "not signed in");
        Assert.Equal(admin, await StoredTokenAsync(tab));
        Assert.Equal(console.ConsoleUrl, tab.Page.Url);

        // A reload (or a new page in the same tab) is still signed in, from sessionStorage.
        await tab.Page.ReloadAsync();
        await tab.ExpectTextAsync(Cell("UserMetrics", "status"), "running", Soon, "a reload signed out");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#sign-in")).ToBeHiddenAsync(), "a reload asks for the token again");

        await tab.Page.ClickAsync("#sign-out");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#sign-in")).ToBeVisibleAsync(), "signing out does not ask for a token");
        Assert.Null(await StoredTokenAsync(tab));
        Assert.Equal(console.ConsoleUrl, tab.Page.Url);
        AssertOnlyPublicRoutesWithTheToken(tab, admin);
        await AssertTheBrowserComplainedOfNothingAsync(tab);
    }

    [Fact]
    public async Task A_lost_connection_is_shown()
    {
        // A service of its own, to stop.
        await using var service = await ServiceProcess.StartAsync(await ServiceProcess.CreateDatabaseAsync("console_lost"));
        await using var tab = await console.OpenAsync(service);
        await ConsoleFixture.SignInAsync(tab, TestTokens.Admin);
        await tab.ExpectTextAsync(Cell("GalleryAnalytics", "status"), "running", Soon, "not signed in");
        await tab.ExpectTextAsync("#health-state", "Ready", Soon, "the readiness probe is not shown");

        await service.KillAsync();
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#connection")).ToHaveAttributeAsync("data-state", "lost", new() { Timeout = 15_000 }),
            "the lost connection is not shown");
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#connection")).ToContainTextAsync("Connection lost since"), "the banner does not say so");
        await tab.ExpectTextAsync("#health-state", "Unreachable", Soon, "the health panel still shows the last answer as current");
        // Figures keep their time and are marked once they miss their refreshes.
        await tab.ExpectAsync(() => Expect(tab.Page.Locator("#projections-as-of")).ToContainTextAsync("not refreshed since", new() { Timeout = 15_000 }),
            "the projections' figures are not marked stale");
        await tab.ExpectTextAsync(Cell("GalleryAnalytics", "status"), "running", Soon, "the last figures were taken away");
        await ConsoleFixture.ScreenshotAsync(tab, "connection-lost");
    }

    /// <summary>No script error, no refused or failed load and no Content-Security-Policy violation: the browser complained
    /// of nothing (requests cut short by a reload of the page are no complaint).</summary>
    private static async Task AssertTheBrowserComplainedOfNothingAsync(BrowserTab tab) =>
        Assert.True(!tab.Messages.Any(m => m.StartsWith("page error", StringComparison.Ordinal) || m.StartsWith("console.error", StringComparison.Ordinal)
                                          || (m.StartsWith("request failed", StringComparison.Ordinal) && !m.EndsWith("net::ERR_ABORTED", StringComparison.Ordinal))),
            await tab.DescribeAsync());

    private static Task<string?> StoredTokenAsync(BrowserTab tab) =>
        tab.Page.EvaluateAsync<string?>($"() => sessionStorage.getItem('{ConsoleFixture.TokenKey}')");

    /// <summary>
    /// Every request the page made went to a route of the service's public API document (docs/openapi.json, the routes
    /// ops/projections uses) or to the console's own files; the admin routes carried the token in the Authorization
    /// header, and no URL ever held it.
    /// </summary>
    private void AssertOnlyPublicRoutesWithTheToken(BrowserTab tab, string token)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "openapi.json")))!;
        var routes = document["paths"]!.AsObject().Select(p => new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]*\}", "[^/]+") + "$")).ToList();
        var origin = $"http://127.0.0.1:{console.Service.Port}";
        Assert.NotEmpty(tab.Requests);
        foreach (var request in tab.Requests)
        {
            Assert.DoesNotContain(token, request.Url, StringComparison.Ordinal);
            Assert.StartsWith(origin + "/", request.Url, StringComparison.Ordinal);
            var url = new Uri(request.Url);
            if (url.AbsolutePath.StartsWith("/console", StringComparison.Ordinal))
            {
                continue;
            }

            Assert.True(routes.Any(r => r.IsMatch(url.AbsolutePath)), $"{request.Method} {url.AbsolutePath} is not a route of docs/openapi.json");
            var expected = url.AbsolutePath.StartsWith("/health/", StringComparison.Ordinal) ? null : $"Bearer {token}";
            Assert.True(request.Authorization == expected, $"{request.Method} {url.AbsolutePath} was sent with Authorization '{request.Authorization}'");
        }

        output.WriteLine($"{tab.Requests.Count} requests, to: " +
                         string.Join(", ", tab.Requests.Select(r => $"{r.Method} {new Uri(r.Url).AbsolutePath}").Distinct().Order()));
    }

    /// <summary>The rest of the shop in small batches, then its first batches again (duplicates), until stopped.</summary>
    private async Task PublishUntilStoppedAsync(List<(DateTimeOffset At, int Accepted)> published, TaskCompletionSource duplicatesSent,
        CancellationToken stop)
    {
        var batches = console.Unpublished.Chunk(20).ToList();
        var again = console.Unpublished.Take(100).Chunk(20).ToList();
        try
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var batch = i < batches.Count ? batches[i] : again[i % again.Count];
                var (receipt, _) = await ServiceProcess.PublishUntilAcceptedAsync(() => console.Service.Client, batch);
                lock (published)
                {
                    published.Add((DateTimeOffset.UtcNow, receipt.Accepted));
                }

                if (receipt.Duplicates > 0)
                {
                    duplicatesSent.TrySetResult();
                }

                // A steady trickle, as shops publish: not a load test.
                await Task.Delay(100, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>An event as history stored before the limits had it: appended to the event store directly, past ingest, by
    /// a host on the service's database that runs no projections. Returns its id.</summary>
    private async Task<Guid> StoreBeforeTheLimitsAsync(object data)
    {
        var clock = Stopwatch.StartNew();
        await using var host = AppFixture.Build(b =>
        {
            b.UseSetting("ConnectionStrings:Postgres", console.Database);
            b.UseSetting("Projections:RunDaemon", "false");
        });
        await using var session = host.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession();
        var action = session.Events.Append("order:o-console-poison", data);
        await session.SaveChangesAsync();
        output.WriteLine($"Stored the poison event {action.Events[^1].Id} in {clock.ElapsedMilliseconds} ms");
        return action.Events[^1].Id;
    }

    /// <summary>axe-core's checks (WCAG 2.1 A and AA: labels, names, contrast, structure) find nothing on the page.</summary>
    private static async Task AssertAccessibleAsync(BrowserTab tab, string state)
    {
        var result = await tab.Page.RunAxe(new Deque.AxeCore.Commons.AxeRunOptions
        {
            RunOnly = new Deque.AxeCore.Commons.RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        var violations = result.Violations.Select(v =>
            $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => string.Join(" ", n.Target)))}").ToList();
        Assert.True(violations.Count == 0, $"{state} has accessibility violations:\n{string.Join("\n", violations)}");
    }
}

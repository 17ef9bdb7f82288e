using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Projections.OperatorConsole;
using Projections.Shop;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Browser;

/// <summary>
/// What the console's browser tests share: the service as a real process with a database of its own, holding most of
/// a small generated shop (the rest is left for a test to publish while it watches), and a headless Chromium.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string TokenKey = "projections-console-token";

    /// <summary>A laptop's window; the screenshots in docs/console/ are taken at this size.</summary>
    public static readonly BrowserNewContextOptions Laptop = new() { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } };

    private IPlaywright? _playwright;

    public ServiceProcess Service { get; private set; } = null!;

    /// <summary>The service's database (a test appends to it directly, as history stored before the limits).</summary>
    public string Database { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The last quarter of the shop, not published yet.</summary>
    public IReadOnlyList<JsonObject> Unpublished { get; private set; } = [];

    public string ConsoleUrl => ConsoleUrlOf(Service);

    public static string ConsoleUrlOf(ServiceProcess service) => $"http://127.0.0.1:{service.Port}{ConsoleEndpoints.Path}/";

    public async Task InitializeAsync()
    {
        if (!File.Exists(DashboardFixture.Chromium))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed ({DashboardFixture.Chromium} is missing): the browser tests drive a real one. Install " +
                "Debian's package with `apt-get install -y chromium`; ops/test and .ci/run do so when it is missing.");
        }

        Database = await ServiceProcess.CreateDatabaseAsync("console");
        // Small rebuild chunks, so that a rebuild takes many steps and its progress can be watched.
        Service = await ServiceProcess.StartAsync(Database, settings: new Dictionary<string, string> { ["Projections__RebuildChunkSize"] = "100", ["Projections__RebuildBatchTime"] = "00:00:00" });
        var shop = new ShopGenerator(ShopSize.Tiny).Envelopes().ToList();
        var published = shop.Count * 3 / 4;
        foreach (var batch in shop.Take(published).Chunk(500))
        {
            await ServiceProcess.PublishUntilAcceptedAsync(() => Service.Client, batch);
        }

        Unpublished = shop[published..];
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = DashboardFixture.Chromium, Headless = true });
    }

    /// <summary>A new tab on the console of <paramref name="service"/> (the fixture's by default), signed out.</summary>
    public Task<BrowserTab> OpenAsync(ServiceProcess? service = null) => BrowserTab.OpenAsync(Browser, ConsoleUrlOf(service ?? Service), Laptop);

    public static async Task SignInAsync(BrowserTab tab, string token)
    {
        await tab.Page.FillAsync("#token", token);
        await tab.Page.ClickAsync("#sign-in-button");
    }

    /// <summary>Writes the page as <c>docs/console/{name}.png</c> (all of it, or what the window shows): the pictures the
    /// README shows, and CI keeps.</summary>
    public static async Task ScreenshotAsync(BrowserTab tab, string name, bool fullPage = true)
    {
        var path = Path.Combine(RepositoryRoot.Path, "docs", "console", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await tab.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
    }
}

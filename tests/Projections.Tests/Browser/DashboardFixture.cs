using Microsoft.Playwright;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Browser;

/// <summary>
/// What the browser tests share: the service as a real process with a database of its own and one origin listed in
/// <c>Cors:AllowedOrigins</c>; the dashboard page served on that origin and on another one that is not listed; and a
/// headless Chromium driven by Playwright.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>Debian's <c>chromium</c> package. Playwright's own browser download cannot work on our machines.</summary>
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>A fixed month, so the dashboard's range holds the test's orders whatever today is.</summary>
    public const string Query = "start_date=2024-03-01&end_date=2024-03-31";

    private IPlaywright? _playwright;
    private PageServer? _pages;

    public ServiceProcess Service { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The origin listed in <c>Cors:AllowedOrigins</c>.</summary>
    public string ListedOrigin { get; private set; } = "";

    /// <summary>An origin serving the same page, not listed.</summary>
    public string OtherOrigin { get; private set; } = "";

    public string Api => $"http://127.0.0.1:{Service.Port}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException(
                $"Chromium is not installed ({Chromium} is missing): the browser tests drive a real one. Install Debian's package " +
                "with `apt-get install -y chromium`; ops/test and .ci/run do so when it is missing.");
        }

        var listedPort = ServiceProcess.FreePort();
        int otherPort;
        while ((otherPort = ServiceProcess.FreePort()) == listedPort)
        {
        }

        ListedOrigin = PageServer.Origin(listedPort);
        OtherOrigin = PageServer.Origin(otherPort);
        var database = await ServiceProcess.CreateDatabaseAsync("browser");
        Service = await ServiceProcess.StartAsync(database, settings: new Dictionary<string, string> { ["Cors__AllowedOrigins__0"] = ListedOrigin });
        _pages = await PageServer.StartAsync(DashboardPage.Html(Api, TestTokens.Admin, Query), listedPort, otherPort);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_pages is not null)
        {
            await _pages.DisposeAsync();
        }

        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
    }
}

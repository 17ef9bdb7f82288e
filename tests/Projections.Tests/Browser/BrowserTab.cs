using Microsoft.Playwright;

namespace Projections.Tests.Browser;

/// <summary>
/// One page in a fresh browser context, with what the browser said about it (console, script errors, failed requests)
/// and the requests it made, so that a failing assertion shows why: a CORS refusal, say, appears in the console and
/// nowhere else.
/// </summary>
public sealed class BrowserTab : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _log = [];
    private readonly List<SentRequest> _requests = [];

    private BrowserTab(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) => Log($"console.{message.Type}: {message.Text}");
        page.PageError += (_, error) => Log($"page error: {error}");
        page.RequestFailed += (_, request) => Log($"request failed: {request.Method} {request.Url}: {request.Failure}");
        page.Request += (_, request) =>
        {
            lock (_requests)
            {
                _requests.Add(new SentRequest(request.Method, request.Url, request.Headers.GetValueOrDefault("authorization")));
            }
        };
    }

    /// <summary>A request the page made, with its <c>Authorization</c> header (null when it had none).</summary>
    public sealed record SentRequest(string Method, string Url, string? Authorization);

    /// <summary>Every request the page made so far, documents and scripts included.</summary>
    public IReadOnlyList<SentRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public IPage Page { get; }

    /// <summary>What the browser said so far, one line each.</summary>
    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    public static async Task<BrowserTab> OpenAsync(IBrowser browser, string url, BrowserNewContextOptions? options = null)
    {
        var context = await browser.NewContextAsync(options);
        var tab = new BrowserTab(context, await context.NewPageAsync());
        await tab.Page.GotoAsync(url);
        return tab;
    }

    /// <summary>The element's text now (a missing element reads as "(none)").</summary>
    public async Task<string> TextAsync(string selector)
    {
        try
        {
            return await Page.Locator(selector).TextContentAsync(new LocatorTextContentOptions { Timeout = 1000 }) ?? "";
        }
        catch (PlaywrightException)
        {
            return "(none)";
        }
    }

    /// <summary>Waits until the element's text is <paramref name="expected"/>, failing with the page's state and what the browser said.</summary>
    public async Task ExpectTextAsync(string selector, string expected, TimeSpan within, string what)
    {
        try
        {
            await Assertions.Expect(Page.Locator(selector)).ToHaveTextAsync(expected, new LocatorAssertionsToHaveTextOptions { Timeout = (float)within.TotalMilliseconds });
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"{what}: {selector} was not \"{expected}\" within {within.TotalSeconds:0.###} s.\n{await DescribeAsync()}\n--- Playwright ---\n{e.Message}");
        }
    }

    /// <summary>Waits for a Playwright assertion (<c>Assertions.Expect(...)</c>), failing with the page's state and what the
    /// browser said.</summary>
    public async Task ExpectAsync(Func<Task> assertion, string what)
    {
        try
        {
            await assertion();
        }
        catch (PlaywrightException e)
        {
            Assert.Fail($"{what}.\n{await DescribeAsync()}\n--- Playwright ---\n{e.Message}");
        }
    }

    /// <summary>The page's visible text, and what the browser said.</summary>
    public async Task<string> DescribeAsync()
    {
        string shown;
        try
        {
            shown = await Page.InnerTextAsync("body", new PageInnerTextOptions { Timeout = 1000 });
        }
        catch (PlaywrightException e)
        {
            shown = $"(unreadable: {e.Message})";
        }

        return $"The page at {Page.Url} shows:\n{(shown.Length > 4000 ? shown[..4000] + "…" : shown)}\n--- the browser said ---\n" +
               (Messages.Count == 0 ? "(nothing)" : string.Join("\n", Messages));
    }

    private void Log(string line)
    {
        lock (_log)
        {
            _log.Add(line);
        }
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}

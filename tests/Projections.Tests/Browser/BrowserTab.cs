using Microsoft.Playwright;

namespace Projections.Tests.Browser;

/// <summary>
/// One page in a fresh browser context, with what the browser said about it (console, script errors, failed requests),
/// so that a failing assertion shows why: a CORS refusal, say, appears in the console and nowhere else.
/// </summary>
public sealed class BrowserTab : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _log = [];

    private BrowserTab(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) => Log($"console.{message.Type}: {message.Text}");
        page.PageError += (_, error) => Log($"page error: {error}");
        page.RequestFailed += (_, request) => Log($"request failed: {request.Method} {request.Url}: {request.Failure}");
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

    public static async Task<BrowserTab> OpenAsync(IBrowser browser, string url)
    {
        var context = await browser.NewContextAsync();
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

    /// <summary>The page's figure, status and "as of", and what the browser said.</summary>
    public async Task<string> DescribeAsync() =>
        $"The page at {Page.Url} shows orders \"{await TextAsync("#orders")}\", status \"{await TextAsync("#status")}\", " +
        $"as of \"{await TextAsync("#as-of")}\".\n--- the browser said ---\n{(Messages.Count == 0 ? "(nothing)" : string.Join("\n", Messages))}";

    private void Log(string line)
    {
        lock (_log)
        {
            _log.Add(line);
        }
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Projections.Auth;
using Projections.Hosting;
using Projections.ReadModels;

namespace Projections.Operations;

/// <summary>
/// The operator's command line (wrapped by <c>ops/projections</c>): talks to a running service over its admin HTTP API,
/// so it works against any node and needs nothing but a URL and an admin token. It runs before the host is built, so
/// an operator sees only the answer.
/// <code>
/// ops list | rebuild &lt;name&gt;|all | dead-letters | replay &lt;id&gt;|all | health  [--url URL] [--token TOKEN]
/// </code>
/// The URL defaults to <c>PROJECTIONS_URL</c> (else http://127.0.0.1:5080); the token to <c>PROJECTIONS_TOKEN</c>, else a
/// dev admin token signed with this environment's <c>Auth:SigningKey</c>.
/// </summary>
public static class OperatorCommand
{
    private const string Usage = "Usage: ops list | rebuild <name>|all | dead-letters | replay <id>|all | health  [--url URL] [--token TOKEN]";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool Handles(string[] args) => args is ["ops", ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var (positional, url, token) = (new List<string>(), Environment.GetEnvironmentVariable("PROJECTIONS_URL") ?? "http://127.0.0.1:5080",
            Environment.GetEnvironmentVariable("PROJECTIONS_TOKEN"));
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--url" when i + 1 < args.Length: url = args[++i]; break;
                case "--token" when i + 1 < args.Length: token = args[++i]; break;
                default: positional.Add(args[i]); break;
            }
        }

        var action = positional.ElementAtOrDefault(0)?.ToLowerInvariant() ?? "list";
        var name = positional.ElementAtOrDefault(1) ?? "all";
        if (action is not ("list" or "rebuild" or "dead-letters" or "replay" or "health"))
        {
            await Console.Error.WriteLineAsync($"Unknown action '{action}'. {Usage}");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        if (action != "health")
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? DevAdminToken());
        }

        try
        {
            var done = action switch
            {
                "list" => await ListAsync(http),
                "rebuild" => await RebuildAsync(http, name),
                "dead-letters" => await DeadLettersAsync(http),
                "replay" => await ReplayAsync(http, name),
                _ => await HealthAsync(http),
            };
            return done ? 0 : 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"Cannot reach {url}: {e.Message}");
            return 1;
        }
    }

    /// <summary>A dev admin token signed with the signing key this environment configures (Development has one).</summary>
    private static string DevAdminToken()
    {
        var environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder().SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true).AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables().Build();
        return DevTokens.Mint(SettingsSetup.Read<AuthSettings>(configuration), Caller.Admin, subject: "operator", lifetime: TimeSpan.FromHours(1));
    }

    private static async Task<bool> ListAsync(HttpClient http)
    {
        var report = await GetAsync<ProjectionsReport>(http, "/api/admin/projections");
        if (report is null)
        {
            return false;
        }

        Console.WriteLine($"High-water mark {report.HighWaterMark}, dead-letter events {report.DeadLetterEvents}");
        Console.WriteLine($"{"PROJECTION",-18} {"VERSION",7} {"STATUS",-10} {"SEQUENCE",10} {"LAG EVENTS",10} {"LAG S",8} {"SET ASIDE",9}  LAST ERROR");
        foreach (var p in report.Projections)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Name,-18} {p.Version,7} {p.Status,-10} {p.Sequence,10} {p.LagEvents,10} {p.LagSeconds,8:0.###} {p.DeadLetterEvents,9}  {p.LastError}"));
            if (p.NotBuilt.Count > 0)
            {
                Console.WriteLine($"  {p.Name} keeps {string.Join(", ", p.NotBuilt)} but has not built them yet: run ops/projections rebuild {p.Name}");
            }

            if (p.Rebuild is { } rebuild)
            {
                Console.WriteLine($"  {p.Name} is being rebuilt ({rebuild.RebuildId}): GET {rebuild.StatusUrl}");
            }
        }

        return report.Projections.All(p => p.Status is not ("failed" or ProjectionStatus.Retrying));
    }

    private static async Task<bool> DeadLettersAsync(HttpClient http)
    {
        if (await GetAsync<DeadLetterList>(http, "/api/admin/projections/dead-letters") is not { } list)
        {
            return false;
        }

        Console.WriteLine(list.DeadLetterEvents.Count == 0 ? "No events are set aside." : $"{list.DeadLetterEvents.Count} event(s) set aside:");
        foreach (var e in list.DeadLetterEvents)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{e.Id}  {e.Projection,-18} sequence {e.Sequence,-10} {e.Type,-30} {e.SetAsideAt:yyyy-MM-ddTHH:mm:ssZ}  attempts {e.Attempts}  {e.Reason}"));
        }

        return true;
    }

    /// <summary>Asks for the replay, waits until every projection has processed the request, and says what is still set aside.</summary>
    private static async Task<bool> ReplayAsync(HttpClient http, string id)
    {
        var url = id.Equals("all", StringComparison.OrdinalIgnoreCase)
            ? "/api/admin/projections/dead-letters/replay"
            : $"/api/admin/projections/dead-letters/{Uri.EscapeDataString(id)}/replay";
        using var response = await http.PostAsync(url, null);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            await Console.Error.WriteLineAsync($"replay {id}: {(int)response.StatusCode} {Detail(body)}");
            return false;
        }

        var accepted = JsonSerializer.Deserialize<ReplayAccepted>(body, Json)!;
        Console.WriteLine($"Replaying {accepted.Events} event(s)...");
        while (accepted.Events > 0)
        {
            if (await GetAsync<ProjectionsReport>(http, "/api/admin/projections") is not { } report)
            {
                return false;
            }

            if (report.Projections.All(p => p.Sequence >= accepted.Sequence))
            {
                break;
            }

            await Task.Delay(250);
        }

        if (await GetAsync<DeadLetterList>(http, "/api/admin/projections/dead-letters") is not { } left)
        {
            return false;
        }

        var still = left.DeadLetterEvents.Where(e => id.Equals("all", StringComparison.OrdinalIgnoreCase) || e.Id.ToString() == id).ToList();
        Console.WriteLine($"Applied {accepted.Events - still.Count}; still set aside {still.Count}.");
        foreach (var e in still)
        {
            Console.WriteLine($"{e.Id}  {e.Projection}  {e.Reason}");
        }

        return still.Count == 0;
    }

    private static async Task<bool> RebuildAsync(HttpClient http, string name)
    {
        var names = new List<string>();
        if (name.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            var report = await GetAsync<ProjectionsReport>(http, "/api/admin/projections");
            if (report is null)
            {
                return false;
            }

            names.AddRange(report.Projections.Select(p => p.Name));
        }
        else
        {
            names.Add(name);
        }

        var rebuilds = new List<(string Name, string StatusUrl)>();
        foreach (var projection in names)
        {
            using var response = await http.PostAsync($"/api/admin/projections/{Uri.EscapeDataString(projection)}/rebuild", null);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"{projection}: {(int)response.StatusCode} {Detail(body)}");
                return false;
            }

            rebuilds.Add((projection, JsonSerializer.Deserialize<RebuildAccepted>(body, Json)!.StatusUrl));
        }

        var bars = new ProgressBars(rebuilds.Select(r => r.Name).ToList());
        var finished = new RebuildStatus?[rebuilds.Count];
        while (finished.Any(f => f is null))
        {
            for (var i = 0; i < rebuilds.Count; i++)
            {
                if (finished[i] is not null)
                {
                    continue;
                }

                var status = await GetAsync<RebuildStatus>(http, rebuilds[i].StatusUrl);
                if (status is null)
                {
                    return false;
                }

                bars.Update(i, status);
                if (status.Status != "running")
                {
                    finished[i] = status;
                }
            }

            bars.Draw();
            if (finished.Any(f => f is null))
            {
                await Task.Delay(250);
            }
        }

        foreach (var failed in finished.Where(f => f!.Status == "failed"))
        {
            await Console.Error.WriteLineAsync($"{failed!.Projection} failed: {failed.Error}");
        }

        return finished.All(f => f!.Status == "completed");
    }

    private static async Task<bool> HealthAsync(HttpClient http)
    {
        var healthy = true;
        foreach (var probe in new[] { "/health/live", "/health/ready" })
        {
            using var response = await http.GetAsync(probe);
            Console.WriteLine($"{probe,-14} {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            healthy &= response.IsSuccessStatusCode;
        }

        return healthy;
    }

    private static async Task<T?> GetAsync<T>(HttpClient http, string url) where T : class
    {
        using var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            await Console.Error.WriteLineAsync($"GET {url}: {(int)response.StatusCode} {Detail(body)}");
            return null;
        }

        return JsonSerializer.Deserialize<T>(body, Json);
    }

    private static string Detail(string problem)
    {
        try
        {
            using var json = JsonDocument.Parse(problem);
            return json.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() ?? problem : problem;
        }
        catch (JsonException)
        {
            return problem;
        }
    }

    /// <summary>One line per rebuild, redrawn in place on a terminal; a line per 10% step when the output is redirected.</summary>
    private sealed class ProgressBars(List<string> names)
    {
        private const int Width = 30;
        private readonly string[] _lines = new string[names.Count];
        private readonly int[] _printedStep = Enumerable.Repeat(-1, names.Count).ToArray();
        private bool _drawn;

        public void Update(int index, RebuildStatus status)
        {
            var filled = (int)Math.Round(status.Percent / 100 * Width);
            _lines[index] = string.Create(CultureInfo.InvariantCulture,
                $"{names[index],-18} [{new string('#', filled)}{new string('.', Width - filled)}] {status.Percent,5:0.0}%  {status.Processed}/{status.Total}  {status.Status}");
            if (Console.IsOutputRedirected && (int)(status.Percent / 10) is var step && (step > _printedStep[index] || status.Status != "running"))
            {
                _printedStep[index] = status.Status == "running" ? step : 11;
                Console.WriteLine(_lines[index]);
            }
        }

        public void Draw()
        {
            if (Console.IsOutputRedirected)
            {
                return;
            }

            var output = new StringBuilder();
            if (_drawn)
            {
                output.Append($"\u001b[{_lines.Length}A");
            }

            foreach (var line in _lines)
            {
                output.Append('\r').Append(line).Append("\u001b[K\n");
            }

            Console.Write(output.ToString());
            _drawn = true;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Projections.Analytics;
using Projections.Ingest;
using Projections.Inventory;
using Projections.ReadModels;

namespace Projections.Bench;

/// <summary>
/// One of the bare processes of <c>ops/Projections.Bench.Bare</c>: the ceiling or a peer, started on a free port just
/// before its measurement and stopped right after it, so that nothing of it runs beside the service's own.
/// </summary>
public sealed class BareProcess : IDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private BareProcess(Process process, string url)
    {
        (_process, Url) = (process, url);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
        Console.CancelKeyPress += (_, _) => Dispose();
    }

    /// <summary>Where it listens, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string Url { get; }

    /// <param name="directory">Where <c>Projections.Bench.Bare.dll</c> was built.</param>
    /// <param name="connectionString">The run's database, for the peers.</param>
    /// <param name="args">The mode and its arguments.</param>
    public static async Task<BareProcess> StartAsync(string directory, string? connectionString, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(directory, "Projections.Bench.Bare.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (connectionString is not null)
        {
            info.Environment["ConnectionStrings__Postgres"] = connectionString;
        }

        var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        // Its first line is the address it listens on (after a peer has prepared its data).
        var url = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (url is null || !url.StartsWith("http://", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            throw new InvalidOperationException($"Projections.Bench.Bare {args[0]} did not start: {url} {await errors}");
        }

        return new BareProcess(process, url);
    }

    public void Dispose()
    {
        lock (_process)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}

/// <summary>What the bare processes are given: the service's answer for the ceiling, the documents' tables and slots for the peers.</summary>
public static class Bare
{
    /// <summary>The read whose bare ceiling is measured again while the shop is busy.</summary>
    public const string BusyCeilingRead = "metrics/admin-dashboard";

    /// <summary>The range the daily-rollup peer and our 366-day analytics read.</summary>
    public const string Year = "?start_date=2024-01-01&end_date=2024-12-31";

    /// <summary>Headers Kestrel writes itself (or that describe the connection): the ceiling's own, not replayed.</summary>
    private static readonly HashSet<string> ServerHeaders = new(StringComparer.OrdinalIgnoreCase)
        { "Date", "Server", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Keep-Alive" };

    /// <summary>The ceiling, answering each of <paramref name="paths"/> (path and query) with what the service answers
    /// to it now: the same body, the same Content-Type and the same headers of its own (ETag, Last-Modified,
    /// Cache-Control, ...).</summary>
    public static async Task<BareProcess> StartCeilingAsync(string directory, HttpClient service, IReadOnlyList<string> paths)
    {
        var folder = Directory.CreateTempSubdirectory("projections-ceiling.");
        try
        {
            var answers = new List<object>();
            foreach (var (path, index) in paths.Select((p, i) => (p, i)))
            {
                using var response = await service.GetAsync(path);
                response.EnsureSuccessStatusCode();
                var body = Path.Combine(folder.FullName, $"{index}.body");
                await File.WriteAllBytesAsync(body, await response.Content.ReadAsByteArrayAsync());
                answers.Add(new
                {
                    Path = path, BodyFile = body, ContentType = response.Content.Headers.ContentType!.ToString(),
                    Headers = response.Headers.Concat(response.Content.Headers).Where(h => !ServerHeaders.Contains(h.Key))
                        .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}").ToList(),
                });
            }

            var manifest = Path.Combine(folder.FullName, "answers.json");
            await File.WriteAllTextAsync(manifest, JsonSerializer.Serialize(answers, JsonSerializerOptions.Web));
            return await BareProcess.StartAsync(directory, null, "ceiling", "--answers", manifest);
        }
        finally
        {
            // Read by the process before it says where it listens.
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The stored-document peer: the inventory metrics document (the larger of the two documents behind the admin
    /// dashboard, about its answer's size) by primary key with Marten's WriteById, from the projection's active slot.</summary>
    public static async Task<BareProcess> StartStoredDocumentAsync(string directory, string connectionString)
    {
        var slot = await ActiveSlotAsync(connectionString, InventoryMetricsProjection.ProjectionName);
        // Marten's default alias of a document type, as in MartenTables.DocumentTable.
        var peer = await BareProcess.StartAsync(directory, connectionString, "stored-document", "--schema", MartenTables.Schema,
            "--document", typeof(InventoryMetrics).Name.ToLowerInvariant(), "--tenant", slot, "--id", InventoryMetrics.DocumentId);
        using var http = new HttpClient();
        var answer = await http.GetStringAsync(peer.Url + "/");
        if (JsonDocument.Parse(answer).RootElement.GetProperty("id").GetString() != InventoryMetrics.DocumentId)
        {
            peer.Dispose();
            throw new InvalidOperationException($"The stored-document peer answered another document: {answer}");
        }

        Console.WriteLine($"Stored-document peer: {answer.Length} bytes of {typeof(InventoryMetrics).Name} from slot {slot}");
        return peer;
    }

    /// <summary>The daily-rollup peer, once its figures for <see cref="Year"/> are the service's own.</summary>
    public static async Task<BareProcess> StartDailyRollupAsync(string directory, string connectionString, HttpClient service)
    {
        var slot = await ActiveSlotAsync(connectionString, GalleryAnalyticsProjection.ProjectionName);
        var referralSlot = await ActiveSlotAsync(connectionString, ReferralAnalyticsProjection.ProjectionName);
        var statuses = EventContract.Statuses.Keys.Order(StringComparer.Ordinal).ToList();
        var peer = await BareProcess.StartAsync(directory, connectionString, "daily-rollup", "--buckets",
            MartenTables.DocumentTable(typeof(AnalyticsBucket)), "--tenant", slot, "--referral-buckets", MartenTables.DocumentTable(typeof(ReferralBucket)),
            "--referral-tenant", referralSlot, "--statuses", string.Join(',', statuses));
        using var http = new HttpClient();
        var theirs = JsonDocument.Parse(await http.GetStringAsync(peer.Url + "/" + Year)).RootElement;
        var ours = JsonDocument.Parse(await service.GetStringAsync("/api/admin/analytics" + Year)).RootElement.GetProperty("analytics");
        var pairs = new List<(string Figure, JsonElement Ours, JsonElement Theirs)>
        {
            ("totalOrders", ours.GetProperty("overview").GetProperty("totalOrders"), theirs.GetProperty("totalOrders")),
            ("totalRevenue", ours.GetProperty("overview").GetProperty("totalRevenue"), theirs.GetProperty("totalRevenue")),
            ("totalItemsSold", ours.GetProperty("overview").GetProperty("totalItemsSold"), theirs.GetProperty("totalItemsSold")),
            ("activeCarts", ours.GetProperty("cartMetrics").GetProperty("activeCarts"), theirs.GetProperty("activeCarts")),
            ("totalReferrals", ours.GetProperty("referralMetrics").GetProperty("totalReferrals"), theirs.GetProperty("totalReferrals")),
            ("conversions", ours.GetProperty("referralMetrics").GetProperty("conversions"), theirs.GetProperty("conversions")),
            ("attributedRevenue", ours.GetProperty("referralMetrics").GetProperty("attributedRevenue"), theirs.GetProperty("attributedRevenue")),
        };
        pairs.AddRange(statuses.Select(s => ($"ordersByStatus.{s}", ours.GetProperty("ordersByStatus").GetProperty(s),
            theirs.GetProperty("ordersByStatus").GetProperty(s))));
        var differ = pairs.Where(p => p.Ours.GetDecimal() != p.Theirs.GetDecimal())
            .Select(p => $"{p.Figure} {p.Ours.GetDecimal().ToString(CultureInfo.InvariantCulture)} vs {p.Theirs.GetDecimal().ToString(CultureInfo.InvariantCulture)}")
            .ToList();
        if (differ.Count > 0)
        {
            peer.Dispose();
            throw new InvalidOperationException($"The daily-rollup peer's figures are not the service's: {string.Join("; ", differ)}");
        }

        Console.WriteLine($"Daily-rollup peer: {pairs.Count} figures for 366 days equal to the service's " +
                          $"({theirs.GetProperty("totalOrders").GetDecimal()} orders), from slot {slot}");
        return peer;
    }

    /// <summary>The blue/green slot a projection's documents are read from (ReadModels/ProjectionSlots.cs).</summary>
    private static async Task<string> ActiveSlotAsync(string connectionString, string projection)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select data->>'active' from {MartenTables.DocumentTable(typeof(ProjectionSlots))} where id = $1", connection)
        {
            Parameters = { new() { Value = projection } },
        };
        return await command.ExecuteScalarAsync() as string ?? ProjectionSlots.Blue;
    }
}

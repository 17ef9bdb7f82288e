using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Projections.Auth;
using Projections.Ingest;
using Projections.Bench;
using Projections.Shop;

// The benchmark (see README, "Benchmark"): against the PostgreSQL in ConnectionStrings__Postgres, for each size it
// starts the service built in Release, publishes a generated shop through POST /api/events with several concurrent
// publishers until every projection has caught up, measures every read endpoint with wrk beside the bare ceiling (a
// process of its own answering the same bytes), the in-service constant, the SQL-aggregation baseline and the two peers
// (Bare.cs), rebuilds every projection online (blue/green, as an operator does), records the service's peak memory, and
// measures the dashboards and publish-to-visible again while its publishers ingest at full speed (BusyShop.cs); then it
// writes a Markdown report and a JSON file.
var options = BenchOptions.Parse(args);
if (args.SkipWhile(a => a != "--from-json").Skip(1).FirstOrDefault() is { } saved)
{
    // Re-render the report of an earlier run (e.g. after a change to the report's layout).
    var run = JsonDocument.Parse(File.ReadAllText(saved)).RootElement;
    if (run.TryGetProperty("readSeconds", out var seconds) && run.TryGetProperty("connections", out var connections))
    {
        options = options with { ReadDuration = TimeSpan.FromSeconds(seconds.GetDouble()), Connections = connections.GetInt32() };
    }

    Report.Write(options, run.GetProperty("machine").Deserialize<MachineInfo>()!, run.GetProperty("results").Deserialize<List<SizeResult>>()!,
        run.TryGetProperty("measuredAt", out var at) ? at.GetDateTime() : File.GetLastWriteTimeUtc(saved));
    return 0;
}

var machine = Machine.Describe();
var results = new List<SizeResult>();
foreach (var size in options.Sizes)
{
    Console.WriteLine($"== {size.Name} ==");
    results.Add(await new SizeRun(options, size).RunAsync());
}

if (options.Phases is not null)
{
    Console.WriteLine("Some phases only (--phases): no report written.");
    return 0;
}

Report.Write(options, machine, results, DateTime.UtcNow);
return 0;

namespace Projections.Bench
{
    public sealed record BenchOptions(IReadOnlyList<ShopSize> Sizes, TimeSpan ReadDuration, int Connections, int Publishers, string ApiDirectory,
        string BareDirectory, string OutputDirectory, string ConnectionString, bool Smoke, IReadOnlySet<string>? Phases = null)
    {
        /// <summary>The phases after the ingest; <c>--phases rebuild,busy</c> runs only those (no report is written).</summary>
        public static readonly string[] AllPhases = ["reads", "streams", "freshness", "rebuild", "hot", "busy"];

        public bool Runs(string phase) => Phases is null || Phases.Contains(phase);

        public static BenchOptions Parse(string[] args)
        {
            string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
            var smoke = args.Contains("--smoke");
            var sizes = (Arg("--sizes") ?? (smoke ? "tiny" : "small,large")).Split(',').Select(ShopSize.Parse).ToList();
            smoke |= args.SkipWhile(a => a != "--from-json").Skip(1).FirstOrDefault() is { } json && File.ReadAllText(json).Contains("\"tiny\"");
            return new BenchOptions(sizes,
                TimeSpan.FromSeconds(double.Parse(Arg("--duration") ?? (smoke ? "2" : "15"), CultureInfo.InvariantCulture)),
                int.Parse(Arg("--connections") ?? "32", CultureInfo.InvariantCulture),
                int.Parse(Arg("--publishers") ?? "4", CultureInfo.InvariantCulture),
                Arg("--api") ?? "src/Projections.Api/bin/Release/net10.0",
                Arg("--bare") ?? "ops/Projections.Bench.Bare/bin/Release/net10.0",
                Arg("--out") ?? "docs",
                Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                    ?? (args.Contains("--from-json") ? "" : throw new InvalidOperationException("Set ConnectionStrings__Postgres")),
                smoke,
                Arg("--phases") is { } phases ? phases.Split(',').Select(p => AllPhases.Contains(p) ? p
                    : throw new ArgumentException($"--phases: unknown phase '{p}'; phases: {string.Join(",", AllPhases)}")).ToHashSet() : null);
        }
    }

    public sealed record ReadResult(string Name, string Path, double RequestsPerSecond, double P50Ms, double P99Ms, long Errors);

    /// <summary>The names of the reads the report compares others with.</summary>
    public static class ReadNames
    {
        /// <summary>The one bare ceiling of earlier runs: admin-dashboard's answer, which every read was set against.</summary>
        public const string BareCeiling = "bare ceiling (admin-dashboard's answer from bare Kestrel)";

        /// <summary>The bare ceiling of one read: that read's own answer (its bytes and headers) from bare Kestrel.</summary>
        public static string BareCeilingOf(string read) => $"bare ceiling for {read} (its answer from bare Kestrel)";
        public const string InServiceConstant = "in-service constant";

        /// <summary>Identifies the in-service constant in earlier runs too, which named it "constant bytes (ceiling)".</summary>
        public const string InServiceConstantPath = "/bench/constant";

        public const string StoredDocumentPeer = "peer: stored document by primary key (Marten WriteById)";
        public const string DailyRollupPeer = "peer: SQL over a daily rollup, 366 days";
    }

    public sealed record SizeResult(string Size, long Events, double PublishSeconds, double PublishEventsPerSecond, double IngestSeconds, double IngestEventsPerSecond, double RebuildSeconds,
        double RebuildEventsPerSecond, long PeakMemoryBytes, IReadOnlyList<ReadResult> Reads, double IngestServiceCpuSeconds = 0,
        double IngestMachineCpuSeconds = 0, FreshnessResult? FreshnessOnePublisher = null, FreshnessResult? FreshnessFourPublishers = null,
        HotVisitorResult? HotVisitor = null, StreamsResult? Streams = null, BusyResult? Busy = null,
        IReadOnlyDictionary<string, double>? RebuildSecondsByProjection = null);

    public sealed class SizeRun(BenchOptions options, ShopSize size)
    {
        private readonly string _database = "bench_" + size.Name;
        private readonly int _port = 20000 + Random.Shared.Next(20000);
        private string Url => $"http://127.0.0.1:{_port}";

        public async Task<SizeResult> RunAsync()
        {
            var connection = await CreateDatabaseAsync();
            var token = DevTokens.Mint(new AuthSettings { SigningKey = Service.SigningKey }, Caller.Admin, subject: "bench", lifetime: TimeSpan.FromHours(6));
            using var service = Service.Start(options.ApiDirectory, connection, Url);
            await service.WaitUntilLiveAsync();

            Console.WriteLine("Generating and serializing the events...");
            // Each publisher owns a share of the entities (as separate shop services would), so every entity's events
            // reach the service in order; publishers run concurrently.
            // A publisher's batch is serialized as soon as it is full: holding every event as a JSON tree until the end
            // took about 20 GB at xlarge, memory the database's page cache then lacked during the measured phases.
            long events = 0;
            var streams = Enumerable.Range(0, options.Publishers).Select(_ => new List<JsonObject>(1000)).ToList();
            var batches = Enumerable.Range(0, options.Publishers).Select(_ => new List<byte[]>()).ToList();
            void Serialize(int publisher)
            {
                batches[publisher].Add(Encoding.UTF8.GetBytes(new JsonArray(streams[publisher].Select(e => (JsonNode)e).ToArray()).ToJsonString()));
                streams[publisher].Clear();
            }

            foreach (var envelope in new ShopGenerator(size).Envelopes())
            {
                events++;
                var publisher = (int)((uint)EntityOf(envelope).GetHashCode(StringComparison.Ordinal) % (uint)streams.Count);
                streams[publisher].Add(envelope);
                if (streams[publisher].Count == 1000)
                {
                    Serialize(publisher);
                }
            }

            for (var publisher = 0; publisher < streams.Count; publisher++)
            {
                if (streams[publisher].Count > 0)
                {
                    Serialize(publisher);
                }
            }

            streams.Clear();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

            Console.WriteLine($"Ingesting {events} events with {options.Publishers} publishers...");
            using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var (serviceCpu, machineCpu) = (service.CpuTime(), Service.MachineCpuTime());
            var clock = Stopwatch.StartNew();
            var last = await PublishAsync(http, batches);
            var publish = clock.Elapsed.TotalSeconds;
            batches.Clear();
            await WaitForCatchUpAsync(http, last);
            var ingest = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"Published in {publish:F1} s ({events / publish:F0} events/s); caught up after {ingest:F1} s ({events / ingest:F0} events/s)");
            (serviceCpu, machineCpu) = (service.CpuTime() - serviceCpu, Service.MachineCpuTime() - machineCpu);
            Console.WriteLine($"CPU during ingest: service {serviceCpu.TotalSeconds:F1} s, whole machine {machineCpu.TotalSeconds:F1} s");

            var reads = options.Runs("reads") ? await MeasureReadsAsync(http, token, connection) : [];

            StreamsResult? live = null;
            if (options.Runs("streams"))
            {
                var streamCount = options.Smoke ? 50 : 1000;
                Console.WriteLine($"{streamCount} live streams: idle, then a change...");
                live = await LiveStreams.MeasureAsync(service, Url, token, streamCount, TimeSpan.FromSeconds(options.Smoke ? 2 : 10), options.Smoke ? 2 : 5);
                Console.WriteLine($"Streams: memory {live.MemoryBeforeBytes / 1048576.0:F0} -> {live.MemoryOpenBytes / 1048576.0:F0} MB, idle CPU " +
                                  $"{live.IdleCpuSeconds:F2} s in {live.IdleSeconds:F0} s; change to all: p50 {live.P50Ms:F0} ms, p99 {live.P99Ms:F0} ms, worst {live.MaxMs:F0} ms");
            }

            FreshnessResult? one = null, four = null;
            if (options.Runs("freshness"))
            {
                var rounds = options.Smoke ? 10 : 200;
                Console.WriteLine($"Publish-to-visible: {rounds} batches of 100 events from one publisher, then from four at once...");
                one = await Freshness.MeasureAsync(http, 1, rounds, 100, "one");
                four = await Freshness.MeasureAsync(http, 4, rounds, 100, "four");
                Console.WriteLine($"One publisher: p50 {one.P50Ms:F0} ms, p99 {one.P99Ms:F0} ms, worst {one.MaxMs:F0} ms; " +
                                  $"four: p50 {four.P50Ms:F0} ms, p99 {four.P99Ms:F0} ms, worst {four.MaxMs:F0} ms");
            }

            var rebuild = 0.0;
            IReadOnlyDictionary<string, double>? rebuildByProjection = null;
            if (options.Runs("rebuild"))
            {
                Console.WriteLine("Rebuilding every projection (online, blue/green)...");
                clock.Restart();
                rebuildByProjection = await RebuildAllAsync(http, clock);
                rebuild = clock.Elapsed.TotalSeconds;
                Console.WriteLine($"Rebuild: {rebuild:F1} s ({events / rebuild:F0} events/s; {Report.ByProjection(rebuildByProjection)}); " +
                                  $"service peak memory so far {service.PeakMemoryBytes() / 1048576.0:F0} MB");
            }

            HotVisitorResult? hot = null;
            if (options.Runs("hot"))
            {
                var hotEvents = options.Smoke ? 3_000 : 200_000;
                Console.WriteLine($"One visitor's {hotEvents} clicks and sales...");
                hot = await HotVisitor.RunAsync(http, hotEvents, options.Publishers, PublishAsync, WaitForCatchUpAsync);
                Console.WriteLine($"Hot visitor: caught up after {hot.Seconds:F1} s ({hot.EventsPerSecond:F0} events/s); {hot.Figures}");
            }

            // The peak of the phases above, comparable with earlier runs: the busy shop below comes after it.
            var peak = service.PeakMemoryBytes();

            Console.WriteLine($"While {options.Publishers} publishers ingest at full speed: reads, then publish-to-visible...");
            // Beside the dashboards, the two references while busy (not in a smoke run, which keeps this phase short): the
            // bare ceiling, a process of its own, shows what the machine leaves any process; the in-service constant what
            // the service's process leaves any route of it. Between them and the dashboards is where the time goes.
            var busyReads = new List<(string, Func<Task<ReadResult>>)>();
            if (!options.Smoke)
            {
                var name = ReadNames.BareCeilingOf(Bare.BusyCeilingRead);
                busyReads.Add((name, async () =>
                {
                    var path = Endpoints().First(e => e.Name == Bare.BusyCeilingRead).Path;
                    using var ceiling = await Bare.StartCeilingAsync(options.BareDirectory, http, [path]);
                    await Wrk.RunAsync(name, ceiling.Url + path, null, options.Connections, TimeSpan.FromSeconds(1));
                    return await Wrk.RunAsync(name, ceiling.Url + path, null, options.Connections, BusyReadDuration);
                }));
            }

            busyReads.AddRange(Endpoints().Where(e => BusyReads.Contains(e.Name) && !(options.Smoke && e.Name == ReadNames.InServiceConstant))
                .Select(e => (e.Name, (Func<Task<ReadResult>>)(() => Wrk.RunAsync(e.Name, Url + e.Path, e.Auth ? token : null, options.Connections, BusyReadDuration)))));
            var busy = options.Runs("busy")
                ? await BusyShop.MeasureAsync(http, options.Publishers, size.Artists, busyReads, options.Smoke ? 2 : 100, 2 * BusyReadDuration)
                : null;

            service.Stop();
            return new SizeResult(size.Name, events, publish, events / publish, ingest, events / ingest, rebuild, rebuild > 0 ? events / rebuild : 0, peak, reads,
                serviceCpu.TotalSeconds, machineCpu.TotalSeconds, one, four, hot, live, busy, rebuildByProjection);
        }

        /// <summary>
        /// Every read with wrk: the service's routes, each with a target after its bare ceiling, then the peers. Each peer
        /// runs only while it is measured.
        /// </summary>
        private async Task<List<ReadResult>> MeasureReadsAsync(HttpClient http, string token, string connection)
        {
            var reads = new List<ReadResult>();
            async Task Measure(string name, string url, string? bearer, bool fresh = false)
            {
                if (fresh)
                {
                    // A process that has answered nothing yet: one second of the same load first, so that its JIT and
                    // tiering are done before it is measured (the service's pipeline has served the whole ingest by then).
                    await Wrk.RunAsync(name, url, bearer, options.Connections, TimeSpan.FromSeconds(1));
                }

                var read = await Wrk.RunAsync(name, url, bearer, options.Connections, options.ReadDuration);
                reads.Add(read);
                Console.WriteLine($"{name}: {read.RequestsPerSecond:F0} req/s, p50 {read.P50Ms:F2} ms, p99 {read.P99Ms:F2} ms" +
                                  (read.Errors > 0 ? $", {read.Errors} errors" : ""));
            }

            // Each read with a target right after its own bare ceiling: the same bytes and headers, from the process that
            // answers them all (idle while the service is measured).
            var targeted = Endpoints().Where(e => ReadTargets.ShareOfBareCeiling(e.Name) is not null).ToList();
            using (var ceiling = await Bare.StartCeilingAsync(options.BareDirectory, http, [.. targeted.Select(e => e.Path)]))
            {
                var fresh = true;
                foreach (var (name, path, auth) in Endpoints())
                {
                    if (targeted.Any(e => e.Name == name))
                    {
                        await Measure(ReadNames.BareCeilingOf(name), ceiling.Url + path, null, fresh);
                        fresh = false;
                    }

                    await Measure(name, Url + path, auth ? token : null);
                }
            }

            using (var peer = await Bare.StartStoredDocumentAsync(options.BareDirectory, connection))
            {
                await Measure(ReadNames.StoredDocumentPeer, peer.Url + "/", null, fresh: true);
            }

            using (var peer = await Bare.StartDailyRollupAsync(options.BareDirectory, connection, http))
            {
                await Measure(ReadNames.DailyRollupPeer, peer.Url + "/" + Bare.Year, null, fresh: true);
            }

            return reads;
        }

        /// <summary>The dashboards' reads measured again while the shop is busy (issue 13, item 6), and the in-service constant.</summary>
        private static readonly string[] BusyReads = [ReadNames.InServiceConstant, "metrics/admin-dashboard", "analytics (366 days)"];

        /// <summary>As long as the idle reads; a smoke run keeps its new phase short.</summary>
        private TimeSpan BusyReadDuration => options.Smoke ? TimeSpan.FromSeconds(1) : options.ReadDuration;

        private static IEnumerable<(string Name, string Path, bool Auth)> Endpoints() =>
        [
            (ReadNames.InServiceConstant, ReadNames.InServiceConstantPath, false),
            ("metrics/admin-dashboard", "/metrics/admin-dashboard", true),
            ("metrics/staff-dashboard", "/metrics/staff-dashboard", true),
            ("metrics/inventory", "/metrics/inventory", true),
            ("analytics (default range)", "/api/admin/analytics", true),
            ("analytics (366 days)", "/api/admin/analytics?start_date=2024-01-01&end_date=2024-12-31", true),
            ("analytics (366 days, Europe/Berlin)", "/api/admin/analytics?start_date=2024-01-01&end_date=2024-12-31&tz=Europe/Berlin", true),
            ("baseline admin-dashboard (SQL per request)", "/bench/baseline/admin-dashboard", true),
            ("baseline analytics 366 days (SQL per request)", "/bench/baseline/analytics?start_date=2024-01-01&end_date=2024-12-31", true),
        ];

        private async Task<string> CreateDatabaseAsync()
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            var admin = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Database = "postgres" };
            await using var connection = new NpgsqlConnection(admin.ConnectionString);
            await connection.OpenAsync();
            foreach (var sql in new[] { $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", $"CREATE DATABASE {_database}" })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }

            builder.Database = _database;
            return builder.ConnectionString;
        }

        /// <summary>The entity stream an envelope belongs to, by the contract's own rule.</summary>
        private static string EntityOf(JsonObject envelope)
        {
            var type = EventContract.ByName[(string)envelope["type"]!];
            var reader = new DataReader(JsonSerializer.SerializeToElement(envelope["data"]));
            return type.StreamKey(type.Read(reader, DateTimeOffset.UnixEpoch));
        }

        private static async Task<long> PublishAsync(HttpClient http, List<List<byte[]>> publishers)
        {
            long last = 0;
            async Task Publisher(List<byte[]> batches)
            {
                foreach (var batch in batches)
                {
                    var sequence = (await Publishing.PostAsync(http, batch)).LastSequence;
                    long seen;
                    while ((seen = Interlocked.Read(ref last)) < sequence && Interlocked.CompareExchange(ref last, sequence, seen) != seen)
                    {
                    }
                }
            }

            await Task.WhenAll(publishers.Select(p => Task.Run(() => Publisher(p))));
            return last;
        }

        /// <summary>
        /// Rebuilds every projection the way an operator does, while the service keeps serving: requests a rebuild of each
        /// (they run side by side) and polls their status until all have completed.
        /// </summary>
        /// <returns>When each projection's rebuild completed, in seconds on <paramref name="clock"/>, by projection: the
        /// projections rebuild side by side, so the whole takes as long as the slowest.</returns>
        private static async Task<IReadOnlyDictionary<string, double>> RebuildAllAsync(HttpClient http, Stopwatch clock)
        {
            var pending = new Dictionary<string, string>();
            var completed = new Dictionary<string, double>();
            var projections = JsonDocument.Parse(await http.GetStringAsync("/api/admin/projections")).RootElement.GetProperty("projections")
                .EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
            foreach (var name in projections)
            {
                using var response = await http.PostAsync($"/api/admin/projections/{name}/rebuild", null);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    throw new InvalidOperationException($"Rebuild of {name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                pending[name] = JsonDocument.Parse(await response.Content.ReadAsStreamAsync()).RootElement.GetProperty("statusUrl").GetString()!;
            }

            var deadline = Stopwatch.StartNew();
            while (pending.Count > 0)
            {
                foreach (var (name, url) in pending.ToList())
                {
                    var status = JsonDocument.Parse(await http.GetStringAsync(url)).RootElement;
                    switch (status.GetProperty("status").GetString())
                    {
                        case "completed":
                            pending.Remove(name);
                            completed[name] = clock.Elapsed.TotalSeconds;
                            break;
                        case "failed": throw new InvalidOperationException($"Rebuild failed: {status}");
                    }
                }

                if (deadline.Elapsed > TimeSpan.FromHours(1))
                {
                    throw new TimeoutException("The rebuilds did not complete within an hour");
                }

                await Task.Delay(20);
            }

            return completed;
        }

        /// <summary>Until every projection has processed through the last sequence (each try waits up to 5 s server-side).</summary>
        private static async Task WaitForCatchUpAsync(HttpClient http, long last)
        {
            foreach (var path in new[] { "/metrics/admin-dashboard", "/api/admin/analytics" })
            {
                for (var attempt = 0; ; attempt++)
                {
                    using var response = await http.GetAsync($"{path}?min_sequence={last}");
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }

                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt > 720)
                    {
                        throw new InvalidOperationException($"{path} answered {(int)response.StatusCode} while catching up");
                    }
                }
            }
        }
    }
}

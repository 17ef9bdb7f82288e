using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Projections.Bench;

public sealed record MachineInfo(string Cpu, int Cores, string Memory, string Os);

public static class Machine
{
    public static MachineInfo Describe()
    {
        string Read(string path, string prefix) => File.Exists(path)
            ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        return new MachineInfo(Read("/proc/cpuinfo", "model name"), Environment.ProcessorCount, Read("/proc/meminfo", "MemTotal"),
            System.Runtime.InteropServices.RuntimeInformation.OSDescription);
    }
}

/// <summary>
/// The read targets (issue 13): every metrics route and the default (30-day) analytics at least 60% of the bare
/// ceiling's requests/s, the 366-day analytics (UTC and a zone) at least 45%, each with p99 ≤ 5 ms and no errors.
/// </summary>
public static class ReadTargets
{
    public const double P99Ms = 5;

    /// <summary>The share of the bare ceiling a read must reach, or null for a read with no target (references, baselines).</summary>
    public static double? ShareOfBareCeiling(string read) =>
        read.StartsWith("metrics/", StringComparison.Ordinal) || read == "analytics (default range)" ? 0.60
        : read.StartsWith("analytics (366 days", StringComparison.Ordinal) ? 0.45
        : null;
}

/// <summary>Writes docs/benchmarks.md (figure, value, ratio, target, verdict) and benchmarks.json beside it.</summary>
public static class Report
{
    private sealed record Row(string Figure, string Value, string Ratio, string Target, bool? Met, string Distance = "");

    /// <summary>What a row says of a figure that the run it is rendered from did not measure (an earlier run's JSON).</summary>
    private const string NotMeasured = "not measured in this run";

    /// <summary>The dashboards' p99 while publishers ingest at full speed (issue 13, item 6).</summary>
    private const double BusyP99Ms = 20;

    /// <summary>When each projection's rebuild completed (they run side by side, so the whole takes the slowest's time),
    /// e.g. "UserMetrics 9.1 s, GalleryAnalytics 47.9 s".</summary>
    public static string ByProjection(IReadOnlyDictionary<string, double> seconds) =>
        string.Join(", ", seconds.Select(p => $"{p.Key} {p.Value.ToString("F1", CultureInfo.InvariantCulture)} s"));

    public static void Write(BenchOptions options, MachineInfo machine, IReadOnlyList<SizeResult> results, DateTime measuredAt)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks").AppendLine();
        md.AppendLine($"Measured {measuredAt:yyyy-MM-dd HH:mm} UTC with `ops/bench{(options.Smoke ? " --smoke" : "")}` on {machine.Cores} cores " +
                      $"({machine.Cpu}), {machine.Memory} memory, {machine.Os}. Service, PostgreSQL, publishers and `wrk` share the machine; " +
                      $"reads: `wrk -t2 -c{options.Connections} -d{options.ReadDuration.TotalSeconds:F0}s`. Ratios compare figures measured in the same run.");
        md.AppendLine();
        foreach (var result in results)
        {
            md.AppendLine($"## {result.Size}: {result.Events:N0} events").AppendLine();
            md.AppendLine("| figure | value | ratio | target | met |").AppendLine("|---|---|---|---|---|");
            foreach (var row in Rows(result, results, options.Connections, options.ReadDuration.TotalSeconds))
            {
                // A row with a target that its run could not judge says why.
                var met = row.Met switch
                {
                    true => "yes",
                    false => "**no**" + (row.Distance.Length > 0 ? ": " + row.Distance : ""),
                    null => row.Target.Length > 0 ? row.Distance : "",
                };
                md.AppendLine($"| {row.Figure} | {row.Value} | {row.Ratio} | {row.Target} | {met} |");
            }

            md.AppendLine();
        }

        md.Append(Growth.Section(results, options.OutputDirectory));
        md.AppendLine("Read figures: requests/s, then p50 / p99 latency, each read with the same `wrk` settings. " +
                      "\"bare ceiling\" is a process of its own (`ops/Projections.Bench.Bare`: Kestrel and one handler; no middleware, " +
                      "authentication or logging; Release, Server GC, as the service) that answers each read with a target with the body, " +
                      "Content-Type and headers the service answered to that read's path and query just before: what this machine's Kestrel can " +
                      "do with those bytes, measured right before the read, so a read's ratio to its own bare ceiling is what the service's own " +
                      "pipeline leaves (runs before 2026-12-02 08:00 had one bare ceiling, admin-dashboard's answer, for every read). \"in-service constant\" is a constant 1 KB JSON " +
                      "answer from the service itself, behind its middleware (the reference before the bare ceiling; the read targets are " +
                      "judged by the bare ceiling). \"baseline\" answers the same question by SQL aggregation over the per-entity documents on every " +
                      "request, as the original services did. The peers are what a user would build instead, each in a process of its own " +
                      "on the run's database, without authentication: \"stored document by primary key\" streams the stored inventory " +
                      "metrics document (the larger of the admin dashboard's two, about its answer's size) from its blue/green slot with " +
                      "Marten's `WriteById`; \"SQL over a daily rollup\" answers 366 days with one `select sum(...) ... where day between " +
                      "$1 and $2` over `bench_daily_rollup` (one row per UTC day, filled once at start from the run's day buckets) as JSON: " +
                      "the sums of orders, revenue, items sold, orders by status, new, active and checked-out carts, active cart value and " +
                      "items, referrals, conversions and attributed revenue, checked equal to the service's figures before it is measured " +
                      "(no top artists, timeline or derived ratios: less than our answer holds). \"while ... ingest at full speed\": the benchmark's " +
                      "publishers (as many as in its ingest phase) send new entities of 2024 in batches of 1,000, each as soon as its previous " +
                      "batch was answered (a refusal's `Retry-After` waited out), while the dashboards' reads are measured with the same `wrk` " +
                      "settings and publish-to-visible with one more publisher; beside them admin-dashboard's bare ceiling and the in-service constant while " +
                      "busy (not in a smoke run) say how much of a dashboard's latency the machine leaves any process and how much the " +
                      "service's process leaves any of its routes. Measured last, so the peak memory above is without it. " +
                      "Raw numbers: `benchmarks.json`.");
        File.WriteAllText(Path.Combine(options.OutputDirectory, "benchmarks.md"), md.ToString());
        File.WriteAllText(Path.Combine(options.OutputDirectory, "benchmarks.json"),
            JsonSerializer.Serialize(new { measuredAt, readSeconds = options.ReadDuration.TotalSeconds, connections = options.Connections, machine, results }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(md.ToString());
    }

    private static IEnumerable<Row> Rows(SizeResult r, IReadOnlyList<SizeResult> all, int connections, double seconds)
    {
        static string F(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);
        // At large, issue 13's targets (ingest 20,000, rebuild 60,000 events/s); at the other sizes, the earlier ones.
        var (ingestTarget, rebuildTarget) = r.Size == "large" ? (20_000, 60_000) : (10_000, 20_000);
        yield return new Row("ingest, until every projection caught up", $"{F(r.IngestEventsPerSecond)} events/s ({F(r.IngestSeconds, "F1")} s)",
            "", $"≥ {F(ingestTarget)} events/s", r.IngestEventsPerSecond >= ingestTarget,
            $"{F(r.IngestEventsPerSecond * 100 / ingestTarget, "F0")}% of the target");
        yield return new Row("publishing alone (all 202s received)", $"{F(r.PublishEventsPerSecond)} events/s ({F(r.PublishSeconds, "F1")} s)",
            "", "", null);
        if (r.IngestMachineCpuSeconds > 0)
        {
            yield return new Row("CPU used during ingest: service / whole machine",
                $"{F(r.IngestServiceCpuSeconds, "F1")} s / {F(r.IngestMachineCpuSeconds, "F1")} s ({F(r.IngestServiceCpuSeconds * 1e6 / r.Events)} / {F(r.IngestMachineCpuSeconds * 1e6 / r.Events)} µs per event)",
                "", "", null);
        }

        foreach (var (freshness, name, limit) in new[] { (r.FreshnessOnePublisher, "one publisher", 100), (r.FreshnessFourPublishers, "four publishers sending the same batch at once", 250) })
        {
            if (freshness is not null)
            {
                yield return new Row($"publish-to-visible, {name} ({freshness.Rounds} batches of {freshness.BatchSize})",
                    $"p50 {F(freshness.P50Ms)} ms, p99 {F(freshness.P99Ms)} ms, worst {F(freshness.MaxMs)} ms", "", $"p99 ≤ {limit} ms",
                    freshness.P99Ms <= limit, $"p99 is {F(freshness.P99Ms / limit, "F1")}× the limit");
            }
        }

        // Publish-to-visible while the shop is busy, beside the idle figure above (issue 13, item 7): no target of its own.
        var busyPublishers = r.Busy is { } run ? $"{run.Publishers} publishers" : "the publishers";
        yield return r.Busy is { Freshness: var busyFreshness }
            ? new Row($"publish-to-visible, one publisher while {busyPublishers} ingest at full speed ({busyFreshness.Rounds} batches of {busyFreshness.BatchSize})",
                $"p50 {F(busyFreshness.P50Ms)} ms, p99 {F(busyFreshness.P99Ms)} ms, worst {F(busyFreshness.MaxMs)} ms; ingest meanwhile {F(r.Busy.FreshnessIngestEventsPerSecond)} events/s",
                r.FreshnessOnePublisher is { } quiet ? $"idle: p50 {F(quiet.P50Ms)} ms, p99 {F(quiet.P99Ms)} ms" : "", "", null)
            : new Row($"publish-to-visible, one publisher while {busyPublishers} ingest at full speed", NotMeasured, "", "", null);

        if (r.HotVisitor is { } hot)
        {
            var ratio = hot.EventsPerSecond / r.IngestEventsPerSecond;
            yield return new Row($"{F(hot.Events)} events of one visitor, until caught up", $"{F(hot.EventsPerSecond)} events/s ({F(hot.Seconds, "F1")} s); {hot.Figures}",
                $"{F(ratio, "F2")} of the shop's rate", "≥ 0.50, exact figures", ratio >= 0.5 && hot.Exact,
                string.Join(", ", new[] { ratio < 0.5 ? $"{F(ratio * 100, "F0")}% of the shop's rate" : "", hot.Exact ? "" : "figures differ" }.Where(d => d.Length > 0)));
        }

        if (r.Streams is { } streams)
        {
            var grown = (streams.MemoryOpenBytes - streams.MemoryBeforeBytes) / 1048576.0;
            // What the streams add to the service's idle work, measured just before for as long without them.
            var core = (streams.IdleCpuSeconds - streams.IdleCpuSecondsWithout) / streams.IdleSeconds;
            yield return new Row($"{F(streams.Streams)} open live streams, idle {F(streams.IdleSeconds, "F0")} s",
                $"memory +{F(grown, "F1")} MB ({F(streams.MemoryBeforeBytes / 1048576.0)} → {F(streams.MemoryOpenBytes / 1048576.0)} MB), " +
                $"CPU {(core >= 0 ? "+" : "")}{F(core * 100, "F1")}% of one core ({F(100 * streams.IdleCpuSecondsWithout / streams.IdleSeconds, "F1")}% → {F(100 * streams.IdleCpuSeconds / streams.IdleSeconds, "F1")}%)",
                "", "≤ 50 MB more, ≤ 5% of one core", grown <= 50 && core <= 0.05,
                string.Join(", ", new[] { grown > 50 ? $"+{F(grown, "F1")} MB" : "", core > 0.05 ? $"{F(core * 100, "F1")}% of one core" : "" }.Where(d => d.Length > 0)));
            var limit = streams.IntervalMs + 100;
            yield return new Row($"a change reaching all {F(streams.Streams)} streams ({streams.Changes} changes, from the publish's 202)",
                $"p50 {F(streams.P50Ms)} ms, p99 {F(streams.P99Ms)} ms, worst {F(streams.MaxMs)} ms", "", $"worst ≤ {F(limit)} ms (interval + 100 ms)",
                streams.MaxMs <= limit, $"worst is {F(streams.MaxMs / limit, "F2")}× the limit");
        }

        var byProjection = r.RebuildSecondsByProjection is { Count: > 0 } each ? $"; {ByProjection(each)}" : "";
        yield return new Row("rebuild of every projection (online, side by side)",
            $"{F(r.RebuildEventsPerSecond)} events/s ({F(r.RebuildSeconds, "F1")} s{byProjection})",
            "", $"≥ {F(rebuildTarget)} events/s", r.RebuildEventsPerSecond >= rebuildTarget,
            $"{F(r.RebuildEventsPerSecond * 100 / rebuildTarget, "F0")}% of the target");
        yield return new Row("peak resident memory of the service", $"{F(r.PeakMemoryBytes / 1048576.0)} MB", "", "≤ 500 MB",
            r.PeakMemoryBytes <= 500L * 1048576);

        // Every read with a target is set against its own bare ceiling (a process of its own answering the same bytes),
        // by which the targets are judged, and against the in-service constant, the reference before it. Runs before the
        // per-read ceilings had admin-dashboard's for every read; runs before that, none.
        var sharedBare = r.Reads.FirstOrDefault(x => x.Name == ReadNames.BareCeiling);
        var dashboardBare = r.Reads.FirstOrDefault(x => x.Name == ReadNames.BareCeilingOf(Bare.BusyCeilingRead)) ?? sharedBare;
        ReadResult? BareOf(ReadResult read) => r.Reads.FirstOrDefault(x => x.Name == ReadNames.BareCeilingOf(read.Name)) ?? dashboardBare;
        string Ceiling(ReadResult read, ReadResult bare) =>
            bare.Name == ReadNames.BareCeilingOf(read.Name) ? "its bare ceiling" : "admin-dashboard's bare ceiling";
        var constant = r.Reads.First(x => x.Path == ReadNames.InServiceConstantPath);
        string Ratios(ReadResult read) => string.Join(", ", new[]
        {
            BareOf(read) is { } bare ? $"{F(read.RequestsPerSecond / bare.RequestsPerSecond, "F2")} of {Ceiling(read, bare)}" : "",
            read == constant ? "" : $"{F(read.RequestsPerSecond / constant.RequestsPerSecond, "F2")} of in-service constant",
        }.Where(p => p.Length > 0));
        var ceilings = r.Reads.Where(x => x.Name.StartsWith("bare ceiling", StringComparison.Ordinal)).ToHashSet();
        if (sharedBare is not null)
        {
            yield return new Row($"read {ReadNames.BareCeiling}", ReadValue(sharedBare), "1.00", "", null);
        }
        else if (ceilings.Count == 0)
        {
            yield return new Row("read bare ceiling", NotMeasured, "", "", null);
        }

        var small = all.FirstOrDefault(x => x.Size == "small");
        foreach (var read in r.Reads.Where(x => !ceilings.Contains(x) && x.Name is not (ReadNames.StoredDocumentPeer or ReadNames.DailyRollupPeer)))
        {
            var bare = BareOf(read);
            if (bare is not null && bare.Name == ReadNames.BareCeilingOf(read.Name))
            {
                yield return new Row($"read {bare.Name}", ReadValue(bare), "1.00", "", null);
            }

            var isMetrics = read.Name.StartsWith("metrics", StringComparison.Ordinal);
            var share = ReadTargets.ShareOfBareCeiling(read.Name);
            bool? met = null;
            var distance = "";
            if (share is { } least)
            {
                // The p99 and the errors can be judged without the ceiling; the share needs it measured in the same run.
                var ratio = bare is null ? (double?)null : read.RequestsPerSecond / bare.RequestsPerSecond;
                var misses = new[]
                {
                    read.P99Ms > ReadTargets.P99Ms ? $"p99 {F(read.P99Ms, "F1")} ms is {F(read.P99Ms / ReadTargets.P99Ms, "F1")}× the limit" : "",
                    ratio < least ? $"{F(ratio.Value * 100, "F0")}% of {Ceiling(read, bare!)}" : "",
                    read.Errors > 0 ? $"{read.Errors} errors" : "",
                }.Where(d => d.Length > 0).ToList();
                (met, distance) = misses.Count > 0 ? ((bool?)false, string.Join(", ", misses))
                    : ratio is null ? (null, "not measured: no bare ceiling in this run") : (true, "");
            }

            var target = share is { } s ? $"≥ {F(s * 100, "F0")}% of {(bare is null ? "bare ceiling" : Ceiling(read, bare))}, p99 ≤ {F(ReadTargets.P99Ms)} ms" : "";
            var name = read == constant ? ReadNames.InServiceConstant : read.Name;
            yield return new Row($"read {name}", ReadValue(read), read == constant && bare is null ? "1.00" : Ratios(read), target, met, distance);

            if (r.Size == "large" && small?.Reads.FirstOrDefault(x => x.Name == read.Name) is { } atSmall && isMetrics)
            {
                var growth = read.P50Ms / atSmall.P50Ms;
                yield return new Row($"p50 {read.Name}, large vs small", $"{F(read.P50Ms, "F2")} vs {F(atSmall.P50Ms, "F2")} ms",
                    $"{F(growth, "F2")}×", "≤ 1.5×", growth <= 1.5, $"{F(growth, "F2")}×");
            }
        }

        foreach (var peer in new[] { ReadNames.StoredDocumentPeer, ReadNames.DailyRollupPeer })
        {
            yield return r.Reads.FirstOrDefault(x => x.Name == peer) is { } read
                ? new Row($"read {peer}", ReadValue(read), Ratios(read), "", null)
                : new Row($"read {peer}", NotMeasured, "", "", null);
        }

        // A zone's own buckets: a year in Berlin reads as many documents as a year in UTC, so it should answer as fast.
        var utcYear = r.Reads.First(x => x.Name == "analytics (366 days)");
        var zoneYear = r.Reads.First(x => x.Name == "analytics (366 days, Europe/Berlin)");
        var zoneRatio = zoneYear.RequestsPerSecond / utcYear.RequestsPerSecond;
        yield return new Row("analytics 366 days, Europe/Berlin vs UTC",
            $"{F(zoneYear.RequestsPerSecond)} vs {F(utcYear.RequestsPerSecond)} req/s, p99 {F(zoneYear.P99Ms, "F2")} vs {F(utcYear.P99Ms, "F2")} ms",
            $"{F(zoneRatio, "F2")}×", "≥ 0.8× UTC's rate, no errors", zoneRatio >= 0.8 && zoneYear.Errors == 0 && utcYear.Errors == 0,
            zoneYear.Errors + utcYear.Errors > 0 ? $"{zoneYear.Errors + utcYear.Errors} errors" : $"{F(zoneRatio, "F2")}×");

        // Ours against what the original services did (a target at large only: at small, aggregating is still cheap) and
        // against what a user would build instead (a target at every size: neither peer's cost grows with the shop).
        foreach (var (ours, other, label, times, atLargeOnly) in new[]
                 {
                     ("metrics/admin-dashboard", "baseline admin-dashboard (SQL per request)", "its baseline", 100, true),
                     ("analytics (366 days)", "baseline analytics 366 days (SQL per request)", "its baseline", 100, true),
                     ("metrics/admin-dashboard", ReadNames.StoredDocumentPeer, ReadNames.StoredDocumentPeer, 5, false),
                     ("analytics (366 days)", ReadNames.DailyRollupPeer, ReadNames.DailyRollupPeer, 25, false),
                 })
        {
            var target = atLargeOnly ? r.Size == "large" ? $"≥ {times}× at large" : "" : $"≥ {times}×";
            var a = r.Reads.First(x => x.Name == ours);
            if (r.Reads.FirstOrDefault(x => x.Name == other) is not { } b)
            {
                yield return new Row($"{ours} vs {label}", NotMeasured, "", target, null);
                continue;
            }

            // When no request of theirs completed, the ratio is at least the one against that bound.
            var bounded = b.RequestsPerSecond == 0;
            var rate = bounded ? connections / seconds : b.RequestsPerSecond;
            var speedup = a.RequestsPerSecond / rate;
            var errors = a.Errors + b.Errors;
            bool? met = target.Length == 0 ? null : speedup >= times && (atLargeOnly || errors == 0);
            yield return new Row($"{ours} vs {label}",
                $"{F(a.RequestsPerSecond)} vs {(bounded ? "< " + F(rate, "F2") : F(b.RequestsPerSecond, "N1"))} req/s",
                $"{(bounded ? "> " : "")}{F(speedup, "F1")}×", target, met,
                atLargeOnly ? $"{F(speedup, "F1")}×"
                    : string.Join(", ", new[] { speedup < times ? $"{F(speedup / times * 100, "F0")}% of the target" : "", errors > 0 ? $"{errors} errors" : "" }
                        .Where(d => d.Length > 0)));

            // The most any service could be ahead of a peer on this machine: our answer's bytes from bare Kestrel against
            // the peer. A target above it cannot be met here by a faster read path, only by a faster machine or a slower peer.
            if (!atLargeOnly && r.Reads.FirstOrDefault(x => x.Name == ReadNames.BareCeilingOf(ours)) is { } ceiling)
            {
                var most = ceiling.RequestsPerSecond / rate;
                yield return new Row($"{ours}'s bare ceiling vs {label}",
                    $"{F(ceiling.RequestsPerSecond)} vs {F(b.RequestsPerSecond, "N1")} req/s",
                    $"{F(most, "F1")}×: the most a read of these bytes reaches here" + (most < times ? $", {F(most / times * 100, "F0")}% of the {times}× target" : ""),
                    "", null);
            }
        }

        // The references while the shop is busy: what the machine leaves any process (the bare ceiling), and what the
        // service's process leaves any route of it (the in-service constant). No target: they say where the time goes.
        foreach (var name in new[] { ReadNames.BareCeiling, ReadNames.BareCeilingOf(Bare.BusyCeilingRead), ReadNames.InServiceConstant })
        {
            if (r.Busy?.Reads.FirstOrDefault(x => x.Read.Name == name) is { } reference)
            {
                var idle = r.Reads.FirstOrDefault(x => x.Name == name);
                yield return new Row($"read {name} while {busyPublishers} ingest at full speed",
                    $"{ReadValue(reference.Read)}{(idle is null ? "" : $" (idle: {ReadValue(idle)})")}; ingest meanwhile {F(reference.IngestEventsPerSecond)} events/s",
                    idle is null ? "" : $"{F(reference.Read.RequestsPerSecond / idle.RequestsPerSecond, "F2")} of idle req/s", "", null);
            }
        }

        // The dashboards while the shop is busy (issue 13, item 6), beside their idle figures above.
        foreach (var name in new[] { "metrics/admin-dashboard", "analytics (366 days)" })
        {
            var figure = $"read {name} while {busyPublishers} ingest at full speed";
            var target = $"p99 ≤ {F(BusyP99Ms)} ms";
            if (r.Busy?.Reads.FirstOrDefault(x => x.Read.Name == name) is not { } busy)
            {
                yield return new Row(figure, NotMeasured, "", target, null);
                continue;
            }

            var idle = r.Reads.First(x => x.Name == name);
            var misses = new[]
            {
                busy.Read.P99Ms > BusyP99Ms ? $"p99 {F(busy.Read.P99Ms, "F1")} ms is {F(busy.Read.P99Ms / BusyP99Ms, "F1")}× the limit" : "",
                busy.Read.Errors > 0 ? $"{busy.Read.Errors} errors" : "",
            }.Where(d => d.Length > 0).ToList();
            yield return new Row(figure, $"{ReadValue(busy.Read)} (idle: {ReadValue(idle)}); ingest meanwhile {F(busy.IngestEventsPerSecond)} events/s",
                $"{F(busy.Read.RequestsPerSecond / idle.RequestsPerSecond, "F2")} of idle req/s", target, misses.Count == 0, string.Join(", ", misses));
        }

        if (r.Busy is { } load)
        {
            var rates = load.Reads.Select(x => x.IngestEventsPerSecond).Append(load.FreshnessIngestEventsPerSecond).ToList();
            yield return new Row($"ingest by {busyPublishers} at full speed while reads are measured",
                $"{F(rates.Min())}–{F(rates.Max())} events/s ({F(load.Events)} events; {F(load.Refusals)} refusals waited out)",
                $"{F(rates.Average() / r.PublishEventsPerSecond, "F2")} of publishing alone", "", null);
        }

        // Nothing completed in the run with every connection busy: the rate was below one request per connection over
        // the run (had all of them completed the moment it ended).
        string ReadValue(ReadResult read) => read.RequestsPerSecond == 0
            ? $"no request completed in {F(seconds)} s with {connections} in flight: < {F(connections / seconds, "F2")} req/s"
            : $"{F(read.RequestsPerSecond)} req/s, {F(read.P50Ms, "F2")} / {F(read.P99Ms, "F2")} ms" + (read.Errors > 0 ? $", {read.Errors} errors" : "");
    }
}

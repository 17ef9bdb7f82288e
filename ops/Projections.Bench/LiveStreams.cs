using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Projections.Bench;

/// <summary>Open live streams: the service's memory and CPU while they idle, and how long a change takes to reach them.</summary>
public sealed record StreamsResult(int Streams, long MemoryBeforeBytes, long MemoryOpenBytes, double IdleSeconds, double IdleCpuSeconds,
    int Changes, double P50Ms, double P99Ms, double MaxMs, double IntervalMs, double IdleCpuSecondsWithout = 0);

/// <summary>
/// Opens many Server-Sent Events streams on one read route (as many dashboards showing it would), lets them idle, then
/// publishes changes one at a time and times, for every stream, from the publish's 202 to the update's arrival.
/// </summary>
public static class LiveStreams
{
    /// <summary>The service's default Reads:StreamInterval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public static async Task<StreamsResult> MeasureAsync(Service service, string url, string token, int count, TimeSpan idle, int changes)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = count + 16, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // After the loads before, the service settles first (collections, compilation): until a second costs it under
        // 10% of a core, at most a minute. Then its own idle work (the daemon's and the progress polls), for as long as
        // the streams will idle, without them.
        for (var settle = Stopwatch.StartNew(); settle.Elapsed < TimeSpan.FromMinutes(1);)
        {
            var busy = service.CpuTime();
            await Task.Delay(TimeSpan.FromSeconds(1));
            if ((service.CpuTime() - busy).TotalSeconds < 0.1)
            {
                break;
            }
        }

        var without = service.CpuTime();
        await Task.Delay(idle);
        var idleCpuWithout = (service.CpuTime() - without).TotalSeconds;
        var before = service.MemoryBytes();

        using var stop = new CancellationTokenSource();
        var arrivals = new List<long>[count];
        var opened = new TaskCompletionSource[count];
        var readers = new Task[count];
        for (var i = 0; i < count; i++)
        {
            (arrivals[i], opened[i]) = ([], new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            readers[i] = ReadAsync(http, arrivals[i], opened[i], stop.Token);
        }

        await Task.WhenAll(opened.Select(o => o.Task)).WaitAsync(TimeSpan.FromMinutes(2));
        var cpu = service.CpuTime();
        var clock = Stopwatch.StartNew();
        await Task.Delay(idle);
        var idleCpu = (service.CpuTime() - cpu).TotalSeconds;
        var idleSeconds = clock.Elapsed.TotalSeconds;
        var open = service.MemoryBytes();

        var latencies = new List<double>();
        for (var change = 0; change < changes; change++)
        {
            // Past the interval since the last update, as a shop whose figures change now and then.
            await Task.Delay(Interval + TimeSpan.FromMilliseconds(200));
            foreach (var seen in arrivals)
            {
                lock (seen)
                {
                    seen.Clear();
                }
            }

            var published = await PublishAsync(http, change);
            var deadline = Stopwatch.StartNew();
            while (arrivals.Any(a => { lock (a) { return a.Count == 0; } }) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            foreach (var seen in arrivals)
            {
                lock (seen)
                {
                    latencies.Add(seen.Count == 0 ? 30_000 : Stopwatch.GetElapsedTime(published, seen[0]).TotalMilliseconds);
                }
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
        latencies.Sort();
        double At(double quantile) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(quantile * latencies.Count) - 1)];
        return new StreamsResult(count, before, open, idleSeconds, idleCpu, changes, At(0.5), At(0.99), latencies[^1], Interval.TotalMilliseconds,
            idleCpuWithout);
    }

    private static async Task ReadAsync(HttpClient http, List<long> arrivals, TaskCompletionSource opened, CancellationToken stop)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/staff-dashboard");
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"A live stream answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(stop)}");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
            var first = true;
            while (await reader.ReadLineAsync(stop) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                if (first)
                {
                    first = false;
                    opened.TrySetResult();
                    continue;
                }

                var at = Stopwatch.GetTimestamp();
                lock (arrivals)
                {
                    arrivals.Add(at);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            opened.TrySetException(e);
        }
    }

    /// <summary>One new customer: the staff dashboard's figures change. Returns when the 202 arrived.</summary>
    private static async Task<long> PublishAsync(HttpClient http, int change)
    {
        var body = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(), ["type"] = "user.registered",
            ["occurredAt"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["data"] = new System.Text.Json.Nodes.JsonObject { ["userId"] = $"stream-watcher-{change}-{Guid.NewGuid():N}", ["role"] = "customer" },
        }).ToJsonString();
        await Publishing.PostAsync(http, Encoding.UTF8.GetBytes(body));
        return Stopwatch.GetTimestamp();
    }
}

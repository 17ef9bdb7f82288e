using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Projections.Bench;

/// <summary>A read measured while the publishers ingested, with the rate of events they had accepted meanwhile.</summary>
public sealed record BusyRead(ReadResult Read, double IngestEventsPerSecond);

/// <summary>Reads and publish-to-visible while publishers ingest at full speed; refusals are the 503/429 answers they waited out.</summary>
public sealed record BusyResult(int Publishers, IReadOnlyList<BusyRead> Reads, FreshnessResult Freshness, double FreshnessIngestEventsPerSecond,
    long Events, long Refusals);

/// <summary>
/// The shop while it is busy: the benchmark's publishers (as many as in its ingest phase) send new events as fast as the
/// service takes them, each waiting only for its previous 202 (or the <c>Retry-After</c> of a refusal), while the
/// dashboards' reads are measured with <c>wrk</c> and publish-to-visible with one more publisher, as when idle.
/// </summary>
public static class BusyShop
{
    public static async Task<BusyResult> MeasureAsync(HttpClient http, int publishers, int artists, IReadOnlyList<(string Name, Func<Task<ReadResult>> Measure)> reads,
        int freshnessRounds, TimeSpan freshnessBudget)
    {
        await using var load = Publishers.Start(http, publishers, artists);
        // Every publisher has had answers before anything is measured: ingest is at full speed.
        await load.WarmUpAsync();

        var measured = new List<BusyRead>();
        foreach (var (name, measure) in reads)
        {
            var (events, clock) = (load.Events, Stopwatch.StartNew());
            var read = await measure();
            measured.Add(new BusyRead(read, (load.Events - events) / clock.Elapsed.TotalSeconds));
            Console.WriteLine($"{name} while busy: {read.RequestsPerSecond:F0} req/s, p50 {read.P50Ms:F2} ms, p99 {read.P99Ms:F2} ms" +
                              (read.Errors > 0 ? $", {read.Errors} errors" : "") + $"; ingest meanwhile {measured[^1].IngestEventsPerSecond:F0} events/s");
        }

        var (before, timer) = (load.Events, Stopwatch.StartNew());
        var freshness = await Freshness.MeasureAsync(http, 1, freshnessRounds, 100, "busy", freshnessBudget);
        var rate = (load.Events - before) / timer.Elapsed.TotalSeconds;
        Console.WriteLine($"Publish-to-visible while busy ({freshness.Rounds} batches): p50 {freshness.P50Ms:F0} ms, p99 {freshness.P99Ms:F0} ms, worst {freshness.MaxMs:F0} ms; " +
                          $"ingest meanwhile {rate:F0} events/s");
        await load.StopAsync();
        Console.WriteLine($"Busy publishers: {load.Events} events accepted, {load.Refusals} refusals waited out");
        return new BusyResult(publishers, measured, freshness, rate, load.Events, load.Refusals);
    }

    /// <summary>The publishers, each sending its own new entities, one batch of 1,000 after another until stopped.</summary>
    private sealed class Publishers : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _running;
        private readonly int[] _answered;
        private long _events;
        private long _refusals;

        private Publishers(HttpClient http, int count, int artists)
        {
            _answered = new int[count];
            _running = Enumerable.Range(0, count).Select(p => Task.Run(() => PublishAsync(http, p, new Batches(p, artists)))).ToArray();
        }

        public long Events => Interlocked.Read(ref _events);

        public long Refusals => Interlocked.Read(ref _refusals);

        public static Publishers Start(HttpClient http, int count, int artists) => new(http, count, artists);

        public async Task WarmUpAsync()
        {
            var clock = Stopwatch.StartNew();
            while (Enumerable.Range(0, _answered.Length).Any(p => Volatile.Read(ref _answered[p]) == 0))
            {
                if (_running.FirstOrDefault(t => t.IsFaulted) is { } failed)
                {
                    await failed;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(1))
                {
                    throw new TimeoutException("The busy publishers had no answer within a minute");
                }

                await Task.Delay(50);
            }
        }

        private async Task PublishAsync(HttpClient http, int publisher, Batches batches)
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var receipt = await Publishing.PostAsync(http, batches.Next(), _stop.Token);
                    Interlocked.Add(ref _events, receipt.Accepted);
                    Interlocked.Add(ref _refusals, receipt.Refusals);
                    Interlocked.Increment(ref _answered[publisher]);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        /// <summary>Stops sending; a publisher that failed fails the measurement.</summary>
        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_running);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
                await Task.WhenAll(_running).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            _stop.Dispose();
        }
    }

    /// <summary>
    /// One publisher's endless stream of new entities in 2024 (the year the reads sum), in batches of 1,000 envelopes
    /// written straight to UTF-8 (the publisher's own cost stays small beside the service's): per unit, a customer, a
    /// product of an existing artist with stock and a reservation, an order of it paid and shipped, a cart checked out,
    /// and a referral click, sometimes followed by a sale in the artist's store. Each entity's events are in order and
    /// every entity belongs to one publisher, as the contract asks of publishers.
    /// </summary>
    private sealed class Batches(int publisher, int artists)
    {
        private const int Size = 1000;
        private static readonly DateTimeOffset Year = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        private readonly Random _random = new(1000 + publisher);
        private readonly Queue<(string Type, DateTimeOffset At, Action<Utf8JsonWriter> Data)> _pending = new();
        private long _unit;

        public byte[] Next()
        {
            var buffer = new ArrayBufferWriter<byte>(Size * 256);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartArray();
                for (var i = 0; i < Size; i++)
                {
                    if (_pending.Count == 0)
                    {
                        Unit();
                    }

                    var (type, at, data) = _pending.Dequeue();
                    json.WriteStartObject();
                    json.WriteString("id", Guid.NewGuid());
                    json.WriteString("type", type);
                    json.WriteString("occurredAt", at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                    json.WritePropertyName("data");
                    json.WriteStartObject();
                    data(json);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            return buffer.WrittenSpan.ToArray();
        }

        private void Unit()
        {
            var r = _random;
            var id = $"busy-{publisher}-{_unit++}";
            var (user, product, order, cart) = ($"user-{id}", $"product-{id}", $"order-{id}", $"cart-{id}");
            var org = $"org-{r.Next(artists):D5}";
            var price = r.Next(1_500, 60_000) / 100m;
            var at = Year.AddSeconds(r.NextInt64(0, 365L * 86400 - 4 * 3600));
            void Add(string type, Action<Utf8JsonWriter> data)
            {
                at = at.AddSeconds(r.Next(1, 600));
                _pending.Enqueue((type, at, data));
            }

            Add("user.registered", j => { j.WriteString("userId", user); j.WriteString("role", "customer"); j.WriteBoolean("emailVerified", r.Next(3) == 0); });
            Add("product.created", j => { j.WriteString("productId", product); j.WriteString("orgId", org); j.WriteString("name", $"Busy work {id}"); j.WriteNumber("price", price); });
            Add("inventory.stock_set", j => { j.WriteString("productId", product); j.WriteNumber("quantity", r.Next(0, 40)); });
            Add("inventory.reserved", j => { j.WriteString("productId", product); j.WriteNumber("quantity", 1); });
            var quantity = r.Next(1, 4);
            Add("order.placed", j =>
            {
                j.WriteString("orderId", order);
                j.WriteString("customerId", user);
                j.WriteStartArray("items");
                j.WriteStartObject();
                j.WriteString("productId", product);
                j.WriteString("orgId", org);
                j.WriteNumber("quantity", quantity);
                j.WriteNumber("unitPrice", price);
                j.WriteEndObject();
                j.WriteEndArray();
            });
            Add("order.status_changed", j => { j.WriteString("orderId", order); j.WriteString("status", "paid"); });
            Add("order.status_changed", j => { j.WriteString("orderId", order); j.WriteString("status", "shipped"); });
            Add("cart.created", j => { j.WriteString("cartId", cart); j.WriteString("customerId", user); });
            Add("cart.item_added", j => { j.WriteString("cartId", cart); j.WriteString("productId", product); j.WriteNumber("quantity", 1); j.WriteNumber("unitPrice", price); });
            Add("cart.checked_out", j => { j.WriteString("cartId", cart); j.WriteString("orderId", order); });
            var visitor = $"visitor-busy-{publisher}-{r.Next(1_000)}";
            Add("referral.clicked", j => { j.WriteString("referralId", $"referral-{id}"); j.WriteString("visitorId", visitor); j.WriteString("orgId", org); });
            if (r.Next(9) == 0)
            {
                var amount = r.Next(2_000, 90_000) / 100m;
                Add("artist_store.order_completed", j =>
                {
                    j.WriteString("orderId", $"store-{id}");
                    j.WriteString("visitorId", visitor);
                    j.WriteString("orgId", org);
                    j.WriteNumber("amount", amount);
                });
            }
        }
    }
}

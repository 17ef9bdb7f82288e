using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Marten;
using Npgsql;
using Projections.Ingest;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;
using RabbitMQ.Client;
using Wolverine;
using Wolverine.Persistence.Durability;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Tracking;
using Xunit.Abstractions;

namespace Projections.Tests.Ingest;

/// <summary>
/// One throwaway RabbitMQ node and one service host that ingests from it (<c>Queue:Transport=rabbitmq</c>), on a
/// database of its own, shared by the RabbitMQ tests: a broker takes seconds to start.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    public RabbitMq Broker { get; private set; } = null!;

    public AppFixture App { get; private set; } = null!;

    /// <summary>The connection string of the service's database.</summary>
    public string Database { get; private set; } = null!;

    private IAlbaHost _host = null!;

    /// <summary>The queue the service listens to: the default of <c>Queue:Name</c>.</summary>
    public static string QueueName => new QueueSettings().Name;

    public async Task InitializeAsync()
    {
        Broker = await RabbitMq.StartAsync();
        Database = await ServiceProcess.CreateDatabaseAsync("rabbit");
        _host = AppFixture.Build(b => b
            .UseSetting("ConnectionStrings:Postgres", Database)
            .UseSetting("Queue:Enabled", "true")
            .UseSetting("Queue:Transport", "rabbitmq")
            .UseSetting("Queue:RabbitMqUri", Broker.Uri.ToString()));
        App = AppFixture.On(_host);
        // Once a message has gone through, the listener runs (with strict ordering, the node's leader assigns it shortly
        // after startup): every test starts with the service consuming. Each test empties the store first.
        var warmUp = Envelopes.Of("user.registered", new JsonObject { ["userId"] = "warm-up", ["role"] = "customer" });
        await _host.TrackActivity().IncludeExternalTransports().Timeout(TimeSpan.FromSeconds(60))
            .SendMessageAndWaitAsync(new PublishEvents(new JsonArray(warmUp).ToJsonString()));
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
    }
}

/// <summary>
/// The queue ingest against a real RabbitMQ broker: <see cref="PublishEvents"/> published to the broker is stored exactly
/// like <c>POST /api/events</c> (exact numbers, duplicates stored once, one entity's events in the order sent); a message
/// that can never be stored goes to Wolverine's dead letters in PostgreSQL without holding up the rest, and one that
/// failed is handled again when replayed; a broker restarted, or hung and killed, while publishers keep sending loses
/// nothing and stores nothing twice.
/// </summary>
public sealed class RabbitMqQueueTests(RabbitMqFixture rabbit, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private AppFixture App => rabbit.App;

    public Task InitializeAsync() => App.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_shuffled_delivery_with_redeliveries_through_the_broker_matches_the_reference_on_every_endpoint()
    {
        var shop = new RandomShop(20250302).WithUsers(150).WithProducts(150);
        var delivery = shop.Delivery();
        var batches = shop.Batches(delivery, maxBatch: 100).ToList();
        Assert.True(delivery.Count > shop.EventCount, "the delivery has redeliveries");
        Assert.True(batches.Count > 10, $"only {batches.Count} batches");

        var session = await SendAndWaitAsync(batches);

        Assert.Equal(batches.Count, session.MessageSucceeded.MessagesOf<PublishEvents>().Count());
        Assert.Empty(session.MovedToErrorQueue.Envelopes());
        // They travelled through the broker's queue.
        var received = session.Received.Envelopes().ToList();
        Assert.Equal(batches.Count, received.Count);
        Assert.All(received, e => Assert.Equal(QueueUri, e.Destination));
        var (count, last) = await StoredEventsAsync();
        Assert.Equal(shop.EventCount, count);
        await RandomizedMetricsTests.AssertEveryEndpointMatches(App, delivery, last);
    }

    [Fact]
    public async Task The_same_batch_sent_twice_is_stored_once()
    {
        var batch = Enumerable.Range(0, 20).Select(i => Registered($"twice-{i}")).ToArray();

        await SendAndWaitAsync([batch, batch]);
        var (count, last) = await StoredEventsAsync();
        Assert.Equal(20, count);

        // And again later, alone.
        await SendAndWaitAsync([batch]);
        Assert.Equal((20, last), await StoredEventsAsync());

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(20, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task Duplicates_across_http_and_the_broker_are_stored_once()
    {
        var overHttp = Enumerable.Range(0, 10).Select(i => Registered($"http-{i}")).ToArray();
        var overBroker = Enumerable.Range(0, 10).Select(i => Registered($"broker-{i}")).ToArray();

        // Some sent over HTTP first, then everything through the broker ...
        await App.PublishAsync(overHttp);
        await SendAndWaitAsync([[.. overHttp, .. overBroker]]);
        Assert.Equal(20, (await StoredEventsAsync()).Count);

        // ... and everything over HTTP again afterwards: nothing new.
        var receipt = await App.PublishAsync([.. overBroker, .. overHttp]);
        Assert.Equal((0, 20), (receipt.Accepted, receipt.Duplicates));
        var (count, last) = await StoredEventsAsync();
        Assert.Equal((20, last), (count, receipt.LastSequence));

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(20, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task One_entitys_events_one_message_each_are_stored_in_the_order_sent()
    {
        var roles = new[] { "staff", "admin", "customer" };
        var events = new List<JsonObject> { Registered("in-order") };
        events.AddRange(Enumerable.Range(0, 60).Select(i =>
            Envelopes.Of("user.role_changed", new JsonObject { ["userId"] = "in-order", ["role"] = roles[i % 3] })));

        var session = await SendAndWaitAsync(events.Select(e => new[] { e }));

        Assert.Equal(events.Count, session.MessageSucceeded.MessagesOf<PublishEvents>().Count());
        await using var query = App.Store.QuerySession();
        var stream = await query.Events.FetchStreamAsync("user:in-order");
        Assert.Equal(events.Select(Id), stream.Select(e => e.Id));
    }

    [Fact]
    public async Task An_invalid_batch_goes_to_the_dead_letters_in_postgresql_with_its_reason_and_does_not_hold_up_the_rest()
    {
        var before = Registered("before");
        var unknownType = Envelopes.Of("user.exploded", new JsonObject { ["userId"] = "u-1" });
        var invalid = new[] { Registered("in-the-invalid-batch"), unknownType };
        var after = Registered("after");

        var session = await SendAndWaitAsync([[before], invalid, [after]]);

        var moved = Assert.Single(session.MovedToErrorQueue.Envelopes());
        var deadLetter = Assert.Single(await DeadLettersAsync(moved.Id));
        Assert.Equal(PublishEvents.TypeName, deadLetter.MessageType);
        Assert.Equal(typeof(InvalidEnvelopesException).FullName, deadLetter.ExceptionType);
        Assert.Equal(QueueUri.ToString(), deadLetter.ReceivedAt);
        Assert.StartsWith("1 envelope(s) are invalid; nothing of this batch was stored.", deadLetter.ExceptionMessage);
        Assert.Contains($"[1] id {unknownType["id"]}: unknown event type 'user.exploded'", deadLetter.ExceptionMessage);
        // The message is kept as it was sent, for inspection.
        var kept = JsonNode.Parse(JsonNode.Parse(deadLetter.Envelope.Data)!["envelopes"]!.GetValue<string>())!.AsArray();
        Assert.Equal(invalid.Select(e => e["id"]!.GetValue<string>()), kept.Select(e => e!["id"]!.GetValue<string>()));

        // Nothing of the invalid batch was stored, and the message behind it was.
        await using var query = App.Store.QuerySession();
        var stored = await query.Events.QueryAllRawEvents().Select(e => e.Id).ToListAsync();
        Assert.Equal(new[] { Id(before), Id(after) }.Order(), stored.Order());
    }

    [Fact]
    public async Task Bytes_that_are_not_a_message_go_to_the_dead_letters_and_do_not_hold_up_the_rest()
    {
        // A publisher that gets the format wrong: the right message type, a body that is not JSON at all.
        var raw = await PublishRawAsync(Encoding.UTF8.GetBytes("\u0001not json {{{"));
        var after = Registered("after-the-raw-bytes");

        // The listener takes one message at a time, in order: the message sent after the bytes is handled after them.
        var session = await SendAndWaitAsync([[after]]);

        Assert.Single(session.MessageSucceeded.MessagesOf<PublishEvents>());
        await WaitUntilAsync(async () => (await DeadLettersAsync(raw)).Count > 0, TimeSpan.FromSeconds(30), "the bytes were dead lettered");
        var deadLetter = Assert.Single(await DeadLettersAsync(raw));
        Assert.Equal(PublishEvents.TypeName, deadLetter.MessageType);
        Assert.Equal(QueueUri.ToString(), deadLetter.ReceivedAt);
        // Why: the body is not the JSON of a PublishEvents.
        Assert.Equal(typeof(JsonException).FullName, deadLetter.ExceptionType);
        Assert.Contains("invalid start of a value", deadLetter.ExceptionMessage);
        await using var query = App.Store.QuerySession();
        Assert.Equal(Id(after), Assert.Single(await query.Events.QueryAllRawEvents().Select(e => e.Id).ToListAsync()));
    }

    [Fact]
    public async Task A_dead_letter_marked_replayable_is_handled_again_once_its_cause_is_fixed()
    {
        // A failure nobody planned for: the database refuses the append with an error that is not transient.
        await using var database = new NpgsqlConnection(rabbit.Database);
        await database.OpenAsync();
        await Execute(database, """
            create function projections.test_refuse() returns trigger language plpgsql as $$
            begin
                raise exception 'refused by a test trigger';
            end $$;
            create trigger test_refuse before insert on projections.mt_events for each statement execute function projections.test_refuse();
            """);
        Wolverine.Envelope moved;
        try
        {
            var session = await SendAndWaitAsync([[Registered("replayed")]]);

            moved = Assert.Single(session.MovedToErrorQueue.Envelopes());
            var deadLetter = Assert.Single(await DeadLettersAsync(moved.Id));
            Assert.Equal(typeof(PostgresException).FullName, deadLetter.ExceptionType);
            Assert.Contains("refused by a test trigger", deadLetter.ExceptionMessage);
            Assert.Equal(0, (await StoredEventsAsync()).Count);
        }
        finally
        {
            // The fix.
            await Execute(database, """
                drop trigger test_refuse on projections.mt_events;
                drop function projections.test_refuse();
                """);
        }

        // Replayed as the README says: Wolverine moves it back to its inbox, and the listener's node handles it again.
        await Execute(database, $"update {IngestSetup.QueueSchemaName}.wolverine_dead_letters set replayable = true where id = '{moved.Id}'");
        await WaitUntilAsync(async () => (await StoredEventsAsync()).Count == 1, TimeSpan.FromSeconds(60), "the replayed message was stored");
        Assert.Empty(await DeadLettersAsync(moved.Id));
    }

    [Fact]
    public Task A_broker_restarted_while_publishers_keep_sending_loses_nothing_and_stores_nothing_twice() =>
        PublishersKeepSendingThroughAsync(20250303, async publishers =>
        {
            await rabbit.Broker.RestartAsync(whileStopped: () =>
            {
                output.WriteLine($"{publishers.Clock.Elapsed}: the broker stopped; {publishers}");
                return Task.CompletedTask;
            });
        });

    [Fact]
    public Task A_broker_that_hangs_and_is_killed_while_publishers_keep_sending_loses_nothing_and_stores_nothing_twice() =>
        PublishersKeepSendingThroughAsync(20250305, async publishers =>
        {
            await rabbit.Broker.HangKillAndRestartAsync(whileHung: async () =>
            {
                // Once the bus is sending into the hung broker, the broker hangs for 2 s more (a frozen machine before its
                // reset): the kernel takes what is written to its sockets, and the broker will never read it. A sender
                // that counts a message as sent once written forgets it then, and the broker's death loses it.
                var sent = publishers.SentThroughTheBus;
                await WaitUntilAsync(() => Task.FromResult(publishers.AttemptedThroughTheBus > sent), TimeSpan.FromSeconds(30),
                    "the bus publisher sent while the broker hung");
                await Task.Delay(TimeSpan.FromSeconds(2));
                var outbox = (await App.Host.GetRuntime().Storage.Admin.FetchCountsAsync()).Outgoing;
                output.WriteLine($"{publishers.Clock.Elapsed}: the broker hung; {publishers}; {outbox} message(s) in the outbox");
            });
        });

    /// <summary>
    /// Two publishers at once, each on entities of its own, with a fault of the broker in the middle of their load;
    /// afterwards every event is stored exactly once and every endpoint matches the reference.
    /// </summary>
    private async Task PublishersKeepSendingThroughAsync(int seed, Func<Publishers, Task> fault)
    {
        // One publishes with RabbitMQ's client, as an external service would, one message at a time so that its order
        // holds: a shuffled delivery with redeliveries, each entity's events in order.
        var confirmed = new RandomShop(seed).WithUsers(120).WithProducts(120);
        var confirmedDelivery = confirmed.Delivery();
        var confirmedMessages = confirmed.Batches(confirmedDelivery, maxBatch: 16).Select(Json).ToList();
        // The other sends through the service's own Wolverine bus, whose outbox sends what it could not send when the
        // broker is back, in no promised order: each of its messages carries whole entities (the order of different
        // entities never matters), and one in ten is sent twice.
        var bus = new RandomShop(seed + 1).WithUsers(120).WithProducts(120);
        var busEntities = WholeEntities(bus.Delivery());
        var busMessages = WholeEntityMessages(busEntities, new Random(seed));
        var expected = confirmed.EventCount + bus.EventCount;

        await using var publishers = Publishers.Start(rabbit.Broker, App.Host.MessageBus(), confirmedMessages, busMessages, output);
        // The fault comes once a third of each publisher's messages are out and the service is storing them.
        await WaitUntilAsync(async () => publishers.Confirmed >= confirmedMessages.Count / 3 && publishers.SentThroughTheBus >= busMessages.Count / 3
            && (await StoredEventsAsync()).Count > 0, TimeSpan.FromSeconds(60), "a third of the load was sent and is being stored");
        var storedBefore = (await StoredEventsAsync()).Count;
        output.WriteLine($"{publishers.Clock.Elapsed}: the fault begins; {storedBefore} of {expected} events stored; {publishers}");
        await fault(publishers);
        output.WriteLine($"{publishers.Clock.Elapsed}: the broker is back; {publishers}");
        await publishers.FinishAsync(TimeSpan.FromSeconds(120));
        output.WriteLine($"{publishers.Clock.Elapsed}: the publishers are done; {publishers}");

        await WaitUntilAsync(async () => (await StoredEventsAsync()).Count >= expected, TimeSpan.FromSeconds(60));
        var (count, last) = await StoredEventsAsync();
        output.WriteLine($"{publishers.Clock.Elapsed}: {count} of {expected} events stored");
        if (count != expected)
        {
            await using var query = App.Store.QuerySession();
            var stored = (await query.Events.QueryAllRawEvents().Select(e => e.Id).ToListAsync()).ToHashSet();
            int Missing(IEnumerable<JsonObject> events) => events.Select(Id).Distinct().Count(id => !stored.Contains(id));
            Assert.Fail($"{count} of {expected} events stored: {Missing(confirmedDelivery)} of the confirming publisher's "
                + $"and {Missing(busEntities.SelectMany(e => e))} of the bus's are missing");
        }

        Assert.True(storedBefore < expected, "the fault came before everything was stored");
        Assert.True(publishers.FailedAttempts > 0, "the fault came while the confirming publisher was sending");
        await RandomizedMetricsTests.AssertEveryEndpointMatches(App, [.. confirmedDelivery, .. busEntities.SelectMany(e => e)], last);
        Assert.Empty(await DeadLettersAsync());

        // Nothing is left to arrive later: Wolverine has nothing more to send or handle, and no event appeared since.
        var admin = App.Host.GetRuntime().Storage.Admin;
        await WaitUntilAsync(async () => await admin.FetchCountsAsync() is { Incoming: 0, Outgoing: 0, Scheduled: 0 }, TimeSpan.FromSeconds(60),
            "Wolverine's inbox and outbox are empty");
        Assert.Equal(expected, (await StoredEventsAsync()).Count);
    }

    /// <summary>
    /// The two publishers of <see cref="PublishersKeepSendingThroughAsync"/>, sending at a steady pace (so that a fault
    /// comes in the middle of their load) until <see cref="FinishAsync"/>, and what they have done so far. Disposing
    /// stops them, so that a failed test leaves none behind.
    /// </summary>
    private sealed class Publishers : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConfirmingPublisher _confirming;
        private Task _running = Task.CompletedTask;
        private int _confirmed, _failures, _busAttempts, _bus;
        private volatile bool _fullSpeed;

        private Publishers(RabbitMq broker) => _confirming = new ConfirmingPublisher(broker);

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        /// <summary>Messages the broker confirmed to the confirming publisher.</summary>
        public int Confirmed => Volatile.Read(ref _confirmed);

        /// <summary>Attempts of the confirming publisher that failed (and were sent again).</summary>
        public int FailedAttempts => Volatile.Read(ref _failures);

        /// <summary>Messages whose send through the bus has returned.</summary>
        public int SentThroughTheBus => Volatile.Read(ref _bus);

        /// <summary>Messages whose send through the bus has begun.</summary>
        public int AttemptedThroughTheBus => Volatile.Read(ref _busAttempts);

        public static Publishers Start(RabbitMq broker, IMessageBus bus, List<string> confirmedMessages, List<string> busMessages,
            ITestOutputHelper output)
        {
            var publishers = new Publishers(broker);
            publishers._running = Task.WhenAll(
                Task.Run(() => publishers.PublishConfirmedAsync(confirmedMessages)),
                Task.Run(() => publishers.SendThroughTheBusAsync(bus, busMessages, output)));
            return publishers;
        }

        /// <summary>Lets the publishers send the rest without pausing, and waits until they have.</summary>
        public Task FinishAsync(TimeSpan within)
        {
            _fullSpeed = true;
            return _running.WaitAsync(within);
        }

        private async Task PublishConfirmedAsync(List<string> messages)
        {
            foreach (var message in messages)
            {
                var id = Guid.NewGuid();
                // On the wire, a PublishEvents is the JSON of the record: {"envelopes":"[...]"}.
                var body = JsonSerializer.SerializeToUtf8Bytes(new PublishEvents(message), JsonSerializerOptions.Web);
                while (!await _confirming.TryPublishAsync(id, body, _stop.Token))
                {
                    // Not confirmed: the broker is away. The same message again (with the same id), before the next.
                    Interlocked.Increment(ref _failures);
                    await Task.Delay(100, _stop.Token);
                }

                Interlocked.Increment(ref _confirmed);
                await PaceAsync();
            }
        }

        private async Task SendThroughTheBusAsync(IMessageBus bus, List<string> messages, ITestOutputHelper output)
        {
            foreach (var message in messages)
            {
                while (true)
                {
                    _stop.Token.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _busAttempts);
                    try
                    {
                        await bus.SendAsync(new PublishEvents(message));
                        break;
                    }
                    catch (Exception e)
                    {
                        // What a publisher does with a send that failed: send it again (duplicates are stored once).
                        output.WriteLine($"{Clock.Elapsed}: the bus failed to send: {e.GetType().Name}: {e.Message}");
                    }
                }

                Interlocked.Increment(ref _bus);
                await PaceAsync();
            }
        }

        private Task PaceAsync() => _fullSpeed ? Task.CompletedTask : Task.Delay(10, _stop.Token);

        public override string ToString() =>
            $"{Confirmed} messages confirmed after {FailedAttempts} failed attempts, {SentThroughTheBus} sent through the bus";

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running.ContinueWith(_ => { }, TaskScheduler.Default);
            await _confirming.DisposeAsync();
            _stop.Dispose();
        }
    }

    // ---- helpers ----

    private static Uri QueueUri => new($"rabbitmq://queue/{RabbitMqFixture.QueueName}");

    private Task<ITrackedSession> SendAndWaitAsync(IEnumerable<JsonObject[]> batches) =>
        SendAndWaitAsync(batches.Select(b => new PublishEvents(Json(b))));

    /// <summary>
    /// Sends the messages, in order, through the service's own message bus, which routes <see cref="PublishEvents"/> to
    /// the broker's queue as a publishing service would, and waits until the queue's listener has handled or dead
    /// lettered every one of them.
    /// </summary>
    private Task<ITrackedSession> SendAndWaitAsync(IEnumerable<PublishEvents> messages)
    {
        async Task SendAll(IMessageContext bus)
        {
            foreach (var message in messages)
            {
                await bus.SendAsync(message);
            }
        }

        return App.Host.TrackActivity()
            .IncludeExternalTransports()
            .DoNotAssertOnExceptionsDetected()
            .Timeout(TimeSpan.FromSeconds(60))
            .ExecuteAndWaitAsync((Func<IMessageContext, Task>)SendAll);
    }

    /// <summary>Publishes bytes straight to the queue with RabbitMQ's own client, as a <see cref="PublishEvents"/>;
    /// returns the message id Wolverine will know it by.</summary>
    private async Task<Guid> PublishRawAsync(byte[] body)
    {
        var id = Guid.NewGuid();
        await using var publisher = new ConfirmingPublisher(rabbit.Broker);
        Assert.True(await publisher.TryPublishAsync(id, body, CancellationToken.None), "the broker confirmed the bytes");
        return id;
    }

    private static string Json(IEnumerable<JsonObject> envelopes) =>
        new JsonArray(envelopes.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString();

    /// <summary>How many events are stored, and the sequence of the last.</summary>
    private async Task<(int Count, long Last)> StoredEventsAsync()
    {
        await using var session = App.Store.QuerySession();
        var sequences = await session.Events.QueryAllRawEvents().Select(e => e.Sequence).ToListAsync();
        return (sequences.Count, sequences.DefaultIfEmpty(0).Max());
    }

    /// <summary>The dead letters stored in PostgreSQL with these message ids.</summary>
    private async Task<IReadOnlyList<DeadLetterEnvelope>> DeadLettersAsync(params Guid[] ids)
    {
        var stored = await App.Host.GetRuntime().Storage.DeadLetters.QueryAsync(new DeadLetterEnvelopeQuery(ids), CancellationToken.None);
        return stored.Envelopes;
    }

    /// <summary>A delivery regrouped by entity, each entity's events once and in their order.</summary>
    private static List<List<JsonObject>> WholeEntities(List<JsonObject> delivery) =>
        delivery.DistinctBy(e => e["id"]!.GetValue<string>())
            .GroupBy(e => (e["data"]!["userId"] ?? e["data"]!["productId"])!.GetValue<string>())
            .Select(g => g.ToList())
            .ToList();

    /// <summary>Messages of 1 to 3 whole entities each, and one in ten of them again later.</summary>
    private static List<string> WholeEntityMessages(List<List<JsonObject>> entities, Random random)
    {
        var messages = new List<string>();
        for (var at = 0; at < entities.Count;)
        {
            var take = Math.Min(random.Next(1, 4), entities.Count - at);
            messages.Add(Json(entities.Skip(at).Take(take).SelectMany(e => e)));
            at += take;
        }

        foreach (var again in messages.Where((_, i) => i % 10 == 3).ToList())
        {
            messages.Insert(random.Next(messages.IndexOf(again) + 1, messages.Count + 1), again);
        }

        return messages;
    }

    /// <summary>Checks <paramref name="condition"/> until it holds; false when it did not within the time, or a failed
    /// test saying what did not happen when <paramref name="what"/> is given.</summary>
    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan within, string? what = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within)
            {
                if (what is not null)
                {
                    Assert.Fail($"Not within {within}: {what}");
                }

                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>
    /// Publishes to the queue with RabbitMQ's own client, as an at-least-once publisher does: persistent messages,
    /// publisher confirms, a new connection when the last one failed.
    /// </summary>
    private sealed class ConfirmingPublisher(RabbitMq broker) : IAsyncDisposable
    {
        private IConnection? _connection;
        private IChannel? _channel;

        /// <summary>True once the broker has confirmed the message (it is then on disk); false when it could not.</summary>
        public async Task<bool> TryPublishAsync(Guid id, byte[] body, CancellationToken cancellation)
        {
            try
            {
                if (_channel is not { IsOpen: true })
                {
                    await CloseAsync();
                    _connection = await broker.ConnectAsync();
                    _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(
                        publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
                }

                var properties = new BasicProperties
                {
                    Persistent = true,
                    MessageId = id.ToString(),
                    Type = PublishEvents.TypeName,
                    ContentType = "application/json",
                };
                // Returns once the broker has confirmed the message; throws when it refuses it or goes away. A confirm that
                // does not come (a hung broker) counts as a failure after a while.
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                await _channel.BasicPublishAsync("", RabbitMqFixture.QueueName, true, properties, body, timeout.Token);
                return true;
            }
            catch (Exception) when (!cancellation.IsCancellationRequested)
            {
                await CloseAsync();
                return false;
            }
        }

        private async Task CloseAsync()
        {
            try
            {
                if (_channel is not null)
                {
                    await _channel.DisposeAsync();
                }

                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                }
            }
            catch (Exception)
            {
                // A connection the broker already closed.
            }

            (_channel, _connection) = (null, null);
        }

        public async ValueTask DisposeAsync() => await CloseAsync();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static Guid Id(JsonObject envelope) => Guid.Parse(envelope["id"]!.GetValue<string>());

    private static JsonObject Registered(string userId) =>
        Envelopes.Of("user.registered", new() { ["userId"] = userId, ["role"] = "customer" });
}

using System.Text.Json.Nodes;
using Marten;
using Npgsql;
using Projections.Ingest;
using Projections.Tests.Infrastructure;
using Projections.Tests.Metrics;
using Wolverine;
using Wolverine.Persistence.Durability;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Tracking;

namespace Projections.Tests.Ingest;

/// <summary>
/// The second ingest path: <see cref="PublishEvents"/> sent through the Wolverine queue (a PostgreSQL queue table) is
/// validated and stored exactly like <c>POST /api/events</c> (same validation, same idempotent append), and a batch that
/// can never be valid goes to Wolverine's dead letters with its reason, storing nothing.
/// </summary>
public sealed class WolverineQueueTests(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData(20250301)]
    [InlineData(11)]
    public async Task A_shuffled_delivery_with_redeliveries_through_the_queue_matches_the_reference_on_every_endpoint(int seed)
    {
        var shop = new RandomShop(seed).WithUsers(150).WithProducts(150);
        var delivery = shop.Delivery();
        var batches = shop.Batches(delivery).ToList();
        Assert.True(delivery.Count > shop.EventCount, "the delivery has redeliveries");
        Assert.True(batches.Count > 5, $"only {batches.Count} batches");

        var session = await SendAndWaitAsync(batches);

        Assert.Equal(batches.Count, session.MessageSucceeded.MessagesOf<PublishEvents>().Count());
        Assert.Empty(session.MovedToErrorQueue.Envelopes());
        var (count, last) = await StoredEventsAsync();
        Assert.Equal(shop.EventCount, count);
        await RandomizedMetricsTests.AssertEveryEndpointMatches(App, delivery, last);
    }

    [Fact]
    public async Task Messages_are_stored_in_the_order_they_were_sent()
    {
        // One entity's events, one message each: per entity, the stream must keep the publisher's order.
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
    public async Task Duplicates_across_http_and_the_queue_are_stored_once()
    {
        var overHttp = Enumerable.Range(0, 10).Select(i => Registered($"http-{i}")).ToArray();
        var overQueue = Enumerable.Range(0, 10).Select(i => Registered($"queue-{i}")).ToArray();

        // Some sent over HTTP first, then everything through the queue ...
        await App.PublishAsync(overHttp);
        await SendAndWaitAsync([[.. overHttp, .. overQueue]]);
        Assert.Equal(20, (await StoredEventsAsync()).Count);

        // ... and everything over HTTP again afterwards: nothing new.
        var receipt = await App.PublishAsync([.. overQueue, .. overHttp]);
        Assert.Equal((0, 20), (receipt.Accepted, receipt.Duplicates));
        var (count, last) = await StoredEventsAsync();
        Assert.Equal((20, last), (count, receipt.LastSequence));

        var json = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal(20, json.GetProperty("total_customers").GetInt32());
    }

    [Fact]
    public async Task A_database_failure_is_retried_in_place_and_nothing_overtakes_it()
    {
        // The first six appends fail as when PostgreSQL is starting up (57P03, "cannot connect now"). The queue's error
        // policy retries the message in place: five times with growing pauses (0.1 to 5 s, 8.6 s in all), then every
        // 10 s, so the seventh execution, at about 18.6 s, goes through. (With ten failures it went through at about
        // 58.6 s, a second short of the tracked session's timeout, and a slow run failed.)
        await using var database = new NpgsqlConnection(AppFixture.ConnectionString);
        await database.OpenAsync();
        await Execute(database, """
            create sequence projections.test_append_failures;
            create function projections.test_fail_six_times() returns trigger language plpgsql as $$
            begin
                if nextval('projections.test_append_failures') <= 6 then
                    raise exception 'the database system is starting up (test)' using errcode = '57P03';
                end if;
                return null;
            end $$;
            create trigger test_fail_six_times before insert on projections.mt_events
                for each statement execute function projections.test_fail_six_times();
            """);
        try
        {
            var first = Registered("retried");
            var second = Envelopes.Of("user.role_changed", new JsonObject { ["userId"] = "retried", ["role"] = "admin" });

            var session = await SendAndWaitAsync([[first], [second]]);

            // The first message ran until the database let it through (retried in place); the second only after it.
            var executions = session.ExecutionStarted.Envelopes().GroupBy(e => e.Id).Select(g => g.Count()).ToList();
            Assert.Equal(2, executions.Count);
            Assert.Equal(7, executions[0]);
            Assert.Equal(1, executions[1]);
            Assert.Equal(2, session.MessageSucceeded.MessagesOf<PublishEvents>().Count());
            Assert.Empty(session.MovedToErrorQueue.Envelopes());
            await using var query = App.Store.QuerySession();
            var stream = await query.Events.FetchStreamAsync("user:retried");
            Assert.Equal([Id(first), Id(second)], stream.Select(e => e.Id));
        }
        finally
        {
            await Execute(database, """
                drop trigger test_fail_six_times on projections.mt_events;
                drop function projections.test_fail_six_times();
                drop sequence projections.test_append_failures;
                """);
        }
    }

    [Theory]
    [InlineData("[{\"id\": ", "not valid JSON")]
    [InlineData("[]", "A batch holds 1 to 1000 envelopes; this one has 0.")]
    [InlineData("42", "The body must be an envelope object or an array of 1 to 1000 envelopes.")]
    public async Task A_malformed_message_goes_to_the_dead_letters_with_its_reason(string body, string reason)
    {
        var session = await SendAndWaitAsync([new PublishEvents(body)]);

        var deadLetter = await SingleDeadLetterAsync(session);
        // The message is kept as it was sent, for inspection.
        Assert.Equal(body, JsonNode.Parse(deadLetter.Envelope.Data)!["envelopes"]!.GetValue<string>());
        Assert.Contains(reason, deadLetter.ExceptionMessage);
        Assert.Contains("Nothing of this batch was stored", deadLetter.ExceptionMessage);
        Assert.Equal(0, (await StoredEventsAsync()).Count);
    }

    [Fact]
    public async Task A_batch_with_invalid_envelopes_goes_to_the_dead_letters_with_every_reason_and_stores_nothing()
    {
        var good = Registered("good");
        var unknownType = Envelopes.Of("user.exploded", new JsonObject { ["userId"] = "u-1" });
        var noOccurredAt = Registered("no-time");
        noOccurredAt.Remove("occurredAt");
        var badId = Registered("bad-id");
        badId["id"] = "not-a-uuid";

        var session = await SendAndWaitAsync([[good, unknownType, noOccurredAt, badId]]);

        var deadLetter = await SingleDeadLetterAsync(session);
        var reason = deadLetter.ExceptionMessage;
        Assert.StartsWith("3 envelope(s) are invalid; nothing of this batch was stored.", reason);
        Assert.Contains($"[1] id {unknownType["id"]}: unknown event type 'user.exploded'", reason);
        Assert.Contains($"[2] id {noOccurredAt["id"]}: occurredAt is required", reason);
        Assert.Contains("[3] id not-a-uuid: id must be a UUID", reason);
        Assert.DoesNotContain("[0]", reason);
        // The valid envelope of the batch was not stored either: a batch is all or nothing.
        Assert.Equal(0, (await StoredEventsAsync()).Count);
    }

    [Fact]
    public async Task A_batch_past_the_limits_goes_to_the_dead_letters_naming_envelope_and_field()
    {
        var good = Registered("good");
        var hugePrice = Envelopes.Of("order.placed", new JsonObject
        {
            ["orderId"] = "o-1",
            ["items"] = new JsonArray(new JsonObject { ["productId"] = "p-1", ["orgId"] = "org-1", ["quantity"] = 1, ["unitPrice"] = 1 }),
        });
        var ancient = Envelopes.Of("referral.clicked", new JsonObject { ["referralId"] = "r-1", ["visitorId"] = "v-1", ["orgId"] = "org-1" },
            DateTimeOffset.MinValue);
        var body = new JsonArray(good.DeepClone(), hugePrice.DeepClone(), ancient.DeepClone()).ToJsonString()
            .Replace("\"unitPrice\":1", "\"unitPrice\":7.9e28", StringComparison.Ordinal);

        var session = await SendAndWaitAsync([new PublishEvents(body)]);

        var reason = (await SingleDeadLetterAsync(session)).ExceptionMessage;
        Assert.StartsWith("2 envelope(s) are invalid; nothing of this batch was stored.", reason);
        Assert.Contains($"[1] id {hugePrice["id"]}: data.items[0].unitPrice must be", reason);
        Assert.Contains($"[2] id {ancient["id"]}: occurredAt must be from 2000-01-01T00:00:00Z", reason);
        Assert.Equal(0, (await StoredEventsAsync()).Count);
    }

    [Fact]
    public async Task A_poison_message_does_not_hold_up_the_messages_behind_it()
    {
        var before = Registered("before");
        var after = Registered("after");

        var session = await SendAndWaitAsync([[before], [Envelopes.Of("user.exploded", new JsonObject())], [after]]);

        await SingleDeadLetterAsync(session);
        await using var query = App.Store.QuerySession();
        var stored = await query.Events.QueryAllRawEvents().Select(e => e.Id).ToListAsync();
        Assert.Equal(new[] { Id(before), Id(after) }.Order(), stored.Order());
    }

    // ---- helpers ----

    private Task<ITrackedSession> SendAndWaitAsync(IEnumerable<JsonObject[]> batches) =>
        SendAndWaitAsync(batches.Select(b => new PublishEvents(new JsonArray(b.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString())));

    /// <summary>
    /// Sends the messages, in order, through the service's own message bus (which routes <see cref="PublishEvents"/> to
    /// the PostgreSQL queue, as a publishing service would), and waits until the queue's listener has handled or dead
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

    /// <summary>How many events are stored, and the sequence of the last.</summary>
    private async Task<(int Count, long Last)> StoredEventsAsync()
    {
        await using var session = App.Store.QuerySession();
        var sequences = await session.Events.QueryAllRawEvents().Select(e => e.Sequence).ToListAsync();
        return (sequences.Count, sequences.DefaultIfEmpty(0).Max());
    }

    /// <summary>The one message the listener dead lettered, as stored in Wolverine's dead letters in PostgreSQL.</summary>
    private async Task<DeadLetterEnvelope> SingleDeadLetterAsync(ITrackedSession session)
    {
        var moved = Assert.Single(session.MovedToErrorQueue.Envelopes());
        var stored = await App.Host.GetRuntime().Storage.DeadLetters.QueryAsync(new DeadLetterEnvelopeQuery([moved.Id]), CancellationToken.None);
        var deadLetter = Assert.Single(stored.Envelopes);
        Assert.Equal(PublishEvents.TypeName, deadLetter.MessageType);
        Assert.Equal(typeof(InvalidEnvelopesException).FullName, deadLetter.ExceptionType);
        Assert.Equal("postgresql://projections_events/", deadLetter.ReceivedAt);
        return deadLetter;
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

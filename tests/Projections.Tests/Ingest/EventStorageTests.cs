using System.Text.Json.Nodes;
using Marten;
using Projections.Tests.Infrastructure;
using Projections.Users;

namespace Projections.Tests.Ingest;

/// <summary>
/// Ingest writes Marten's event store itself, with one statement per batch: what it stores must be exactly what
/// Marten would have stored, so Marten reads it back, continues the streams and feeds the daemon.
/// </summary>
public sealed class EventStorageTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Events_of_one_entity_in_a_batch_get_consecutive_versions_in_envelope_order()
    {
        var at = new DateTimeOffset(2024, 5, 1, 9, 30, 0, TimeSpan.Zero);
        // Interleaved entities, several events each, in one batch; then a second batch continues two of the streams.
        var first = new List<JsonObject>
        {
            Envelopes.Of("user.registered", new() { ["userId"] = "b", ["role"] = "customer", ["emailVerified"] = false }, at),
            Envelopes.Of("user.registered", new() { ["userId"] = "a", ["role"] = "admin", ["emailVerified"] = true }, at),
            Envelopes.Of("user.email_verified", new() { ["userId"] = "b" }, at.AddMinutes(1)),
            Envelopes.Of("user.phone_verified", new() { ["userId"] = "b" }, at.AddMinutes(2)),
            Envelopes.Of("user.deactivated", new() { ["userId"] = "a" }, at.AddMinutes(3)),
            Envelopes.Of("user.registered", new() { ["userId"] = "c", ["role"] = "customer", ["emailVerified"] = false }, at),
        };
        var second = new List<JsonObject>
        {
            Envelopes.Of("user.activated", new() { ["userId"] = "a" }, at.AddMinutes(4)),
            Envelopes.Of("user.email_changed", new() { ["userId"] = "b" }, at.AddMinutes(5)),
            Envelopes.Of("user.email_verified", new() { ["userId"] = "b" }, at.AddMinutes(6)),
        };

        var one = await App.PublishAsync(first);
        var two = await App.PublishAsync(second);
        Assert.Equal((6, 3), (one.Accepted, two.Accepted));

        await using var session = App.Store.QuerySession();
        var all = await session.Events.QueryAllRawEvents().OrderBy(e => e.Sequence).ToListAsync();
        Assert.Equal(first.Concat(second).Select(e => Guid.Parse((string)e["id"]!)), all.Select(e => e.Id));
        Assert.Equal(two.LastSequence, all[^1].Sequence);
        Assert.Equal(one.LastSequence, all[5].Sequence);

        var b = await session.Events.FetchStreamAsync("user:b");
        Assert.Equal([1L, 2, 3, 4, 5], b.Select(e => e.Version));
        Assert.Equal(["user.registered", "user.email_verified", "user.phone_verified", "user.email_changed", "user.email_verified"],
            b.Select(e => e.EventTypeName));
        Assert.True(b.Zip(b.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(new UserRegistered("b", UserRole.Customer, true, false, false, at), b[0].Data);
        Assert.Equal(new UserEmailChanged("b", at.AddMinutes(5)), b[3].Data);

        var a = await session.Events.FetchStreamAsync("user:a");
        Assert.Equal([(1L, typeof(UserRegistered)), (2, typeof(UserDeactivated)), (3, typeof(UserActivated))],
            a.Select(e => (e.Version, e.Data.GetType())));

        var states = await session.Events.FetchStreamStateAsync("user:b");
        Assert.Equal(5, states!.Version);
        Assert.Equal(1, (await session.Events.FetchStreamStateAsync("user:c"))!.Version);

        // And the daemon projects them: a is an active admin again, b a verified customer, c an unverified one.
        var staff = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={two.LastSequence}");
        Assert.Equal((2, 1), (staff.GetProperty("total_customers").GetInt32(), staff.GetProperty("customers_email_verified").GetInt32()));
    }

    [Fact]
    public async Task Marten_can_append_to_a_stream_ingest_started_and_ingest_continues_after_it()
    {
        var registered = await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "m", ["role"] = "customer", ["emailVerified"] = false })]);

        await using (var session = App.Store.LightweightSession())
        {
            session.Events.Append("user:m", new UserPhoneVerified("m", DateTimeOffset.UnixEpoch));
            await session.SaveChangesAsync();
        }

        var verified = await App.PublishAsync([Envelopes.Of("user.email_verified", new() { ["userId"] = "m" })]);
        Assert.True(verified.LastSequence > registered.LastSequence);

        await using var query = App.Store.QuerySession();
        var stream = await query.Events.FetchStreamAsync("user:m");
        Assert.Equal([(1L, typeof(UserRegistered)), (2, typeof(UserPhoneVerified)), (3, typeof(UserEmailVerified))],
            stream.Select(e => (e.Version, e.Data.GetType())));
    }
}

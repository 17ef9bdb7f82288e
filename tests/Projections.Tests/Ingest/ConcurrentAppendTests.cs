using System.Text.Json.Nodes;
using Marten;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Ingest;

/// <summary>Concurrent batches that append to the same entity streams are all stored, none answered with an error.</summary>
public sealed class ConcurrentAppendTests(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task Concurrent_batches_touching_the_same_entities_are_all_stored()
    {
        var register = await App.PublishAsync(Enumerable.Range(0, 5)
            .Select(u => Envelopes.Of("user.registered", new() { ["userId"] = $"u-{u}", ["role"] = "customer", ["emailVerified"] = false })));

        // 12 publishers at once, each with a batch of events for the same five users.
        var batches = Enumerable.Range(0, 12).Select(p => Enumerable.Range(0, 5)
            .SelectMany(u => new[]
            {
                Envelopes.Of("user.email_verified", new JsonObject { ["userId"] = $"u-{u}" }),
                Envelopes.Of("user.phone_verified", new JsonObject { ["userId"] = $"u-{u}" }),
            }).ToList()).ToList();
        var receipts = await Task.WhenAll(batches.Select(b => App.PublishAsync(b)));

        Assert.Equal(12 * 10, receipts.Sum(r => r.Accepted));
        var last = receipts.Max(r => r.LastSequence);
        Assert.True(last > register.LastSequence);
        await using (var session = App.Store.QuerySession())
        {
            Assert.Equal(5 + 120, await session.Events.QueryAllRawEvents().CountAsync());
        }

        var staff = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal((5, 5, 5), (staff.GetProperty("total_customers").GetInt32(), staff.GetProperty("customers_email_verified").GetInt32(),
            staff.GetProperty("customers_phone_verified").GetInt32()));
    }

    [Fact]
    public async Task The_same_batch_delivered_by_four_publishers_at_once_is_stored_once_and_leaves_no_sequence_gap()
    {
        // At-least-once delivery: every round, four publishers send one batch at the same moment. An append that lost such
        // a race used to roll back after drawing sequence numbers; the gap held the daemon for 3 s before it moved on.
        for (var round = 0; round < 20; round++)
        {
            var batch = Enumerable.Range(0, 50)
                .Select(i => Envelopes.Of("user.registered", new() { ["userId"] = $"u-{round}-{i}", ["role"] = "customer" })).ToList();
            var receipts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => App.PublishAsync(batch))));

            Assert.Equal(50, receipts.Sum(r => r.Accepted));
            Assert.Equal(150, receipts.Sum(r => r.Duplicates));
            // Every publisher's receipt names a sequence that includes the batch.
            Assert.All(receipts, r => Assert.Equal(receipts.Max(x => x.LastSequence), r.LastSequence));
        }

        await using var session = App.Store.QuerySession();
        var sequences = await session.Events.QueryAllRawEvents().Select(e => e.Sequence).ToListAsync();
        Assert.Equal(20 * 50, sequences.Count);
        Assert.Equal(sequences.Count, sequences.Max() - sequences.Min() + 1);
    }
}

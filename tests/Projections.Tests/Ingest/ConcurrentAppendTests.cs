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
            // Retried appends leave gaps in the sequence, never extra or missing events.
            Assert.Equal(5 + 120, await session.Events.QueryAllRawEvents().CountAsync());
        }

        var staff = await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={last}");
        Assert.Equal((5, 5, 5), (staff.GetProperty("total_customers").GetInt32(), staff.GetProperty("customers_email_verified").GetInt32(),
            staff.GetProperty("customers_phone_verified").GetInt32()));
    }
}

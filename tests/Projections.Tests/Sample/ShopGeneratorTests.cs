using Projections.Shop;
using System.Text.Json.Nodes;
using Projections.Ingest;

namespace Projections.Tests.Sample;

/// <summary>The benchmark's data generator: deterministic, valid, in time order, about the sizes it promises.</summary>
public sealed class ShopGeneratorTests
{
    [Fact]
    public void The_same_seed_gives_the_same_events_and_another_seed_other_events()
    {
        var first = new ShopGenerator(ShopSize.Tiny, seed: 42).Envelopes().Select(e => e.ToJsonString()).ToList();
        var again = new ShopGenerator(ShopSize.Tiny, seed: 42).Envelopes().Select(e => e.ToJsonString()).ToList();
        var other = new ShopGenerator(ShopSize.Tiny, seed: 43).Envelopes().Select(e => e.ToJsonString()).ToList();
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void The_small_shop_is_about_100k_valid_events_in_time_order_covering_every_event_type()
    {
        var envelopes = new ShopGenerator(ShopSize.Small).Envelopes().ToList();
        Assert.InRange(envelopes.Count, 85_000, 130_000);

        var types = new HashSet<string>();
        foreach (var chunk in envelopes.Chunk(EnvelopeBatch.MaxEnvelopes))
        {
            var body = System.Text.Encoding.UTF8.GetBytes(new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString());
            var result = EnvelopeBatch.Parse(body, DateTimeOffset.UtcNow);
            var valid = Assert.IsType<EnvelopeBatch.Valid>(result);
            types.UnionWith(valid.Envelopes.Select(e => e.Type.Name));
        }

        Assert.Equal(envelopes.Count, envelopes.Select(e => (string)e["id"]!).Distinct().Count());
        var times = envelopes.Select(e => DateTimeOffset.Parse((string)e["occurredAt"]!)).ToList();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.First <= p.Second), "events are not in time order");
        Assert.Empty(EventContract.Types.Select(t => t.Name).Except(types));
    }
}

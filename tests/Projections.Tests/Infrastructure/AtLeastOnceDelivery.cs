using System.Text.Json.Nodes;

namespace Projections.Tests.Infrastructure;

/// <summary>Delivers entities' events as an at-least-once publisher would, for the randomized tests.</summary>
public static class AtLeastOnceDelivery
{
    /// <summary>Every event once, shuffled across entities with each entity's own order kept, plus ~10% redeliveries later on.</summary>
    public static List<JsonObject> Shuffle(IEnumerable<List<JsonObject>> entities, Random random)
    {
        var queues = entities.Select(e => new Queue<JsonObject>(e)).Where(q => q.Count > 0).ToList();
        var delivered = new List<JsonObject>();
        while (queues.Count > 0)
        {
            var i = random.Next(queues.Count);
            delivered.Add(queues[i].Dequeue());
            if (queues[i].Count == 0)
            {
                queues.RemoveAt(i);
            }
        }

        var duplicates = delivered.Count / 10;
        for (var d = 0; d < duplicates; d++)
        {
            var original = random.Next(delivered.Count);
            delivered.Insert(random.Next(original + 1, delivered.Count + 1), (JsonObject)delivered[original].DeepClone());
        }

        return delivered;
    }

    /// <summary>Cuts a delivery into batches of random size (1 to <paramref name="maxBatch"/>).</summary>
    public static IEnumerable<JsonObject[]> Batches(List<JsonObject> delivery, Random random, int maxBatch = 300)
    {
        for (var at = 0; at < delivery.Count;)
        {
            var size = Math.Min(random.Next(1, maxBatch + 1), delivery.Count - at);
            yield return delivery.GetRange(at, size).ToArray();
            at += size;
        }
    }
}

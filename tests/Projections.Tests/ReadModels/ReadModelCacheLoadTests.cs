using System.Text;
using Projections.ReadModels;

namespace Projections.Tests.ReadModels;

/// <summary>Concurrent readers of a key that is out of date share one load instead of each going to the database.</summary>
public sealed class ReadModelCacheLoadTests
{
    [Fact]
    public async Task Concurrent_loads_of_one_key_run_once_and_the_next_change_loads_again()
    {
        var cache = new ReadModelCache();
        var loads = 0;
        var release = new TaskCompletionSource();
        async Task<byte[]> Load(CancellationToken ct)
        {
            Interlocked.Increment(ref loads);
            await release.Task;
            return Encoding.UTF8.GetBytes($"{{\"load\":{loads}}}");
        }

        var readers = Enumerable.Range(0, 32).Select(_ => cache.LoadAsync("key", [7], Load)).ToList();
        release.SetResult();
        var responses = await Task.WhenAll(readers);

        Assert.Equal(1, loads);
        Assert.All(responses, r => Assert.Same(responses[0], r));
        Assert.Same(responses[0], cache.Find("key", [7]));
        Assert.Null(cache.Find("key", [8]));

        var next = await cache.LoadAsync("key", [8], Load);
        Assert.Equal(2, loads);
        Assert.Equal(8, next.Sequence);
        Assert.Same(next, cache.Latest("key"));
    }
}

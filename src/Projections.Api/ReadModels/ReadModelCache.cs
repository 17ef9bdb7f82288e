using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Projections.ReadModels;

/// <summary>A serialized response and the projection progress it was read at.</summary>
public sealed class CachedResponse(long[] progress, byte[] body)
{
    public long[] Progress { get; } = progress;
    public byte[] Body { get; } = body;

    /// <summary>A strong validator derived from the bytes themselves, so every node agrees on it.</summary>
    public string ETag { get; } = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";

    /// <summary>The sequence the whole response is known to reflect: the least progress of the read models in it.</summary>
    public long Sequence { get; } = progress.Length == 0 ? 0 : progress.Min();

    public bool IsAt(long[] progress) => Progress.AsSpan().SequenceEqual(progress);
}

/// <summary>
/// Keeps each read endpoint's serialized response in memory, keyed by what it shows (route and view) and valid while
/// the progress of the projections behind it is unchanged. A response does not depend on who asks: authorization
/// decides who may read it before the cache is consulted. At most one load per key runs at a time: concurrent readers
/// share it, so a change never sends every connection to the database at once.
/// </summary>
public sealed class ReadModelCache
{
    /// <summary>Analytics ranges are open-ended keys; past this many entries the cache starts over.</summary>
    public const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<string, CachedResponse> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CachedResponse>>> _loading = new(StringComparer.Ordinal);

    public CachedResponse? Find(string key, long[] progress) =>
        _entries.TryGetValue(key, out var entry) && entry.IsAt(progress) ? entry : null;

    /// <summary>The entry for the key whatever progress it was read at (null when there is none).</summary>
    public CachedResponse? Latest(string key) => _entries.GetValueOrDefault(key);

    /// <summary>Loads the response at the given progress, or joins the load already running for the key.</summary>
    public Task<CachedResponse> LoadAsync(string key, long[] progress, Func<CancellationToken, Task<byte[]>> load)
    {
        var loading = _loading.GetOrAdd(key, static (_, state) => new Lazy<Task<CachedResponse>>(async () =>
        {
            var (cache, key, progress, load) = state;
            try
            {
                // The load's own token: a reader that goes away does not cancel it for the others.
                return cache.Store(key, progress, await load(CancellationToken.None));
            }
            finally
            {
                cache._loading.TryRemove(key, out var _);
            }
        }), (this, key, progress, load));
        return loading.Value;
    }

    public CachedResponse Store(string key, long[] progress, byte[] body)
    {
        var entry = new CachedResponse(progress, body);
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[key] = entry;
        return entry;
    }

    public void Clear() => _entries.Clear();
}

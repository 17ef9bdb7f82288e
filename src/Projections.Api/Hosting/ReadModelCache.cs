using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Projections.Hosting;

/// <summary>A serialized response and the projection progress it was read at.</summary>
public sealed class CachedResponse(long[] progress, byte[] body)
{
    public long[] Progress { get; } = progress;
    public byte[] Body { get; } = body;

    /// <summary>A strong validator derived from the bytes themselves, so every node agrees on it.</summary>
    public string ETag { get; } = "\"" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12)) + "\"";

    /// <summary>The sequence the whole response is known to reflect: the least progress of the read models in it.</summary>
    public long Sequence { get; } = progress.Length == 0 ? 0 : progress.Min();
}

/// <summary>
/// Keeps each read endpoint's serialized response in memory, keyed by what it shows (route and view) and valid while
/// the progress of the projections behind it is unchanged. A response does not depend on who asks: authorization
/// decides who may read it before the cache is consulted.
/// </summary>
public sealed class ReadModelCache
{
    /// <summary>Analytics ranges are open-ended keys; past this many entries the cache starts over.</summary>
    public const int MaxEntries = 4096;

    private readonly ConcurrentDictionary<string, CachedResponse> _entries = new(StringComparer.Ordinal);

    public CachedResponse? Find(string key, long[] progress) =>
        _entries.TryGetValue(key, out var entry) && entry.Progress.AsSpan().SequenceEqual(progress) ? entry : null;

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

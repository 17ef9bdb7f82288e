using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Projections.ReadModels;

/// <summary>A serialized response, the projection progress it was read at, and when what it shows last changed.</summary>
public sealed class CachedResponse(long[] progress, byte[] body, DateTimeOffset? lastModified = null, bool lastModifiedAmbiguous = false)
{
    public long[] Progress { get; } = progress;
    public byte[] Body { get; } = body;

    /// <summary>When the figures in it last changed (null when unknown); see <see cref="ProjectionProgress.LastChanged(IReadOnlyList{ProjectionSlots}, long[])"/>.</summary>
    public DateTimeOffset? LastModified { get; } = lastModified;

    /// <summary>Whether another change may share <see cref="LastModified"/>'s second (then that second answers no 304).</summary>
    public bool LastModifiedAmbiguous { get; } = lastModifiedAmbiguous;

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

    /// <summary>Per key, the sequence and validator of its last answers, oldest first (for <c>Last-Event-ID</c>).</summary>
    private readonly ConcurrentDictionary<string, (long Sequence, string ETag)[]> _history = new(StringComparer.Ordinal);

    private const int HistoryLength = 32;

    public CachedResponse? Find(string key, long[] progress) =>
        _entries.TryGetValue(key, out var entry) && entry.IsAt(progress) ? entry : null;

    /// <summary>The entry for the key whatever progress it was read at (null when there is none).</summary>
    public CachedResponse? Latest(string key) => _entries.GetValueOrDefault(key);

    /// <summary>Loads the response at the given progress, or joins the load already running for the key.</summary>
    public Task<CachedResponse> LoadAsync(string key, long[] progress, Func<CancellationToken, Task<byte[]>> load,
        (DateTimeOffset? At, bool Ambiguous) lastModified = default)
    {
        var loading = _loading.GetOrAdd(key, static (_, state) => new Lazy<Task<CachedResponse>>(async () =>
        {
            var (cache, key, progress, load, lastModified) = state;
            try
            {
                // The load's own token: a reader that goes away does not cancel it for the others.
                return cache.Store(key, new CachedResponse(progress, await load(CancellationToken.None), lastModified.At, lastModified.Ambiguous));
            }
            finally
            {
                cache._loading.TryRemove(key, out var _);
            }
        }), (this, key, progress, load, lastModified));
        return loading.Value;
    }

    public CachedResponse Store(string key, CachedResponse entry)
    {
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
            _history.Clear();
        }

        _entries[key] = entry;
        _history.AddOrUpdate(key, static (_, e) => [(e.Sequence, e.ETag)],
            static (_, seen, e) => seen[^1] == (e.Sequence, e.ETag) ? seen : [.. seen.Skip(seen.Length + 1 - HistoryLength), (e.Sequence, e.ETag)], entry);
        return entry;
    }

    /// <summary>
    /// Whether the answer for the key at <paramref name="sequence"/> is known to have been <paramref name="etag"/>:
    /// this node answered it at that sequence, always with those bytes. Unknown is no.
    /// </summary>
    public bool Answered(string key, long sequence, string etag) =>
        _history.TryGetValue(key, out var seen) && seen.Any(s => s.Sequence == sequence)
        && seen.Where(s => s.Sequence == sequence).All(s => s.ETag == etag);

    public void Clear()
    {
        _entries.Clear();
        _history.Clear();
    }
}

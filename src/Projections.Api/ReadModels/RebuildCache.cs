using System.Buffers;
using System.Runtime.InteropServices;
using Marten;

namespace Projections.ReadModels;

/// <summary>
/// The documents of the slot a rebuild fills, kept in this node's memory across the projection's batches (serialized,
/// so every load hands out new objects), and written to the slot only now and then (<see cref="Flush"/>): when they
/// outgrow their share of memory, and when the rebuild completes. Replaying history then costs no database round trip
/// per chunk, and a document touched in many chunks (a totals document, a day's bucket) is written once instead of once
/// per chunk.
/// <para>
/// What the slot holds in the database always reflects history through <see cref="Written"/>, the figure a flush
/// commits with the documents in the projection's batch (<see cref="RebuildRun.Written"/>); what this holds reflects
/// history through <see cref="Applied"/>. A batch that finds the committed figure differ from <see cref="Written"/> (its
/// flush was rolled back, or another node moved the rebuild on) starts a new cache from the database's figure, so
/// nothing is counted twice or lost, on this node or another after a failover.
/// </para>
/// </summary>
public sealed class RebuildCache
{
    /// <summary>What one document costs besides its JSON: the dictionary entry, its id and the array's header.</summary>
    private const int EntryOverhead = 112;

    private readonly Dictionary<Type, Dictionary<string, Entry>> _documents = [];
    private readonly Dictionary<string, SetAsideEvent> _setAside = new(StringComparer.Ordinal);
    private readonly ISerializer _serializer;
    private readonly long _limit;
    private readonly int _rowsPerCommand;
    private int _stamp;

    /// <summary>By type: the documents written to the slot by this cache (an update counts again), and how many of
    /// them had been when the table was last analyzed.</summary>
    private readonly Dictionary<Type, (long Written, long Analyzed)> _rows = [];
    private const int AnalyzeAfterRows = 1000;

    /// <summary>The statistics target of the rebuild's <c>ANALYZE</c> (PostgreSQL's default is 100): samples 3,000 rows.</summary>
    private const int AnalyzeStatisticsTarget = 10;

    /// <summary>By type: a Bloom filter of the ids written to the slot (a few false positives cost a needless look-up).</summary>
    private readonly Dictionary<Type, ulong[]> _written = [];
    private const int FilterBits = 1 << 22;

    /// <param name="rebuildId">The rebuild whose slot this holds.</param>
    /// <param name="written">What the slot's stored documents reflect: history through this sequence.</param>
    /// <param name="complete">Whether the stored slot holds no document (an id not held here has none).</param>
    /// <param name="serializer">The store's serializer.</param>
    /// <param name="limit">Bytes of documents beyond which they are written to the slot and the least recently used dropped.</param>
    /// <param name="rowsPerCommand">Documents per statement when writing them, and per query when loading them back.</param>
    public RebuildCache(string rebuildId, long written, bool complete, ISerializer serializer, long limit, int rowsPerCommand)
    {
        (RebuildId, Written, Applied, Complete, _serializer, _limit, _rowsPerCommand) = (rebuildId, written, written, complete, serializer, limit, rowsPerCommand);
    }

    public string RebuildId { get; }

    /// <summary>The sequence through which the slot's stored documents reflect history (as of the last flush here).</summary>
    public long Written { get; private set; }

    /// <summary>The sequence through which the documents held here reflect history.</summary>
    public long Applied { get; private set; }

    /// <summary>Whether this knows every id the stored slot holds (it started from an empty slot and wrote them itself):
    /// then an id neither held here nor ever written has no document, and loading it needs no database.</summary>
    public bool Complete { get; }

    /// <summary>What the documents held here take, approximately.</summary>
    public long Bytes { get; private set; }

    /// <summary>Whether the documents have outgrown their share of memory (time to flush and drop some).</summary>
    public bool Full => Bytes > _limit;

    /// <summary>Whether anything waits to be written.</summary>
    public bool Dirty { get; private set; }

    /// <summary>Loads from what is held here; what is not held (and may be stored) from the slot's documents.</summary>
    public IDocumentSource Source(IQuerySession slot) => new CachedSource(this, slot);

    /// <summary>Takes in the documents a chunk of history computed, through sequence <paramref name="applied"/>.</summary>
    public void Absorb(DocumentChanges changes, IEnumerable<SetAsideEvent> setAside, long applied)
    {
        _stamp++;
        var buffer = new ArrayBufferWriter<byte>(4096);
        foreach (var (type, id, document) in changes.All())
        {
            buffer.ResetWrittenCount();
            _serializer.WriteTo(buffer, document);
            var json = buffer.WrittenSpan.ToArray();
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(Map(type), id, out var existed);
            Bytes += json.Length - (existed ? entry.Json.Length : -EntryOverhead);
            entry = new Entry(json, _stamp, Dirty: true);
        }

        foreach (var e in setAside)
        {
            _setAside[e.Id] = e;
        }

        Applied = applied;
        Dirty = true;
    }

    /// <summary>
    /// Queues everything not yet written into the slot's session (it runs when the batch commits), as of
    /// <see cref="Applied"/>, and records that the slot will then reflect history through it. When the documents are
    /// over their share, the least recently changed are dropped until half of it is left.
    /// <para>
    /// Also queues, after the writes, <c>ANALYZE</c> of a document table whose rows this rebuild has doubled since it was
    /// last analyzed, and of every table written when <paramref name="final"/>. The slot being rebuilt starts empty, so
    /// the planner's statistics say it holds no rows until autovacuum catches up, which it does not within a rebuild:
    /// loading dropped documents back then scanned every row of the slot instead of looking the ids up (about 100 ms
    /// for 100 documents at <c>large</c>, the largest share of the database's time in a rebuild), and the live
    /// projection would meet the same statistics once the slot is active.
    /// </para>
    /// </summary>
    public void Flush(IDocumentOperations slot, bool final = false)
    {
        foreach (var (type, map) in _documents)
        {
            // Ids the slot cannot hold yet (it started empty and they were never written) are inserted; the rest upserted.
            var (ids, json, freshIds, freshJson) = (new List<string>(), new List<byte[]>(), new List<string>(), new List<byte[]>());
            foreach (var (id, entry) in map)
            {
                if (entry.Dirty)
                {
                    var fresh = Complete && !MayBeWritten(type, id);
                    (fresh ? freshIds : ids).Add(id);
                    (fresh ? freshJson : json).Add(entry.Json);
                }
            }

            slot.StoreAllJson(type, freshIds, freshJson, _rowsPerCommand, fresh: true);
            slot.StoreAllJson(type, ids, json, _rowsPerCommand);
            ids.AddRange(freshIds);
            ref var rows = ref CollectionsMarshal.GetValueRefOrAddDefault(_rows, type, out _);
            rows.Written += ids.Count;
            var filter = _written.TryGetValue(type, out var bits) ? bits : _written[type] = new ulong[FilterBits / 64];
            foreach (var id in ids)
            {
                foreach (var bit in Bits(id))
                {
                    filter[bit >> 6] |= 1UL << (bit & 63);
                }
            }

            foreach (var id in ids)
            {
                CollectionsMarshal.GetValueRefOrNullRef(map, id).Dirty = false;
            }
        }

        foreach (var e in _setAside.Values)
        {
            slot.Store(e);
        }

        _setAside.Clear();
        foreach (var (type, rows) in _rows)
        {
            if (rows.Written > rows.Analyzed && (final || rows.Written - rows.Analyzed >= Math.Max(AnalyzeAfterRows, rows.Analyzed)))
            {
                // The key columns only, from a small sample: the planner needs the slot's size to look ids up by the
                // key; statistics of the JSON, or finer ones of the keys, serve no look-up and cost the most to gather.
                slot.QueueSqlCommand($"set local default_statistics_target = {AnalyzeStatisticsTarget}");
                slot.QueueSqlCommand($"analyze {slot.DocumentStore.Options.FindOrResolveDocumentType(type).TableName.QualifiedName} (tenant_id, id)");
                CollectionsMarshal.GetValueRefOrNullRef(_rows, type).Analyzed = rows.Written;
            }
        }

        (Written, Dirty) = (Applied, false);
        if (Full)
        {
            Drop(_limit / 2);
        }
    }

    /// <summary>Drops the least recently changed documents (all written) until at most <paramref name="keep"/> bytes are left.</summary>
    private void Drop(long keep)
    {
        // Bytes by the chunk that last changed them, newest kept first.
        var byStamp = new long[_stamp + 1];
        foreach (var map in _documents.Values)
        {
            foreach (var entry in map.Values)
            {
                byStamp[entry.Stamp] += entry.Json.Length + EntryOverhead;
            }
        }

        var (oldestKept, kept) = (_stamp + 1, 0L);
        while (oldestKept > 0 && kept + byStamp[oldestKept - 1] <= keep)
        {
            kept += byStamp[--oldestKept];
        }

        foreach (var map in _documents.Values)
        {
            foreach (var (id, entry) in map)
            {
                if (entry.Stamp < oldestKept)
                {
                    map.Remove(id);
                }
            }

            map.TrimExcess();
        }

        Bytes = kept;
    }

    /// <summary>Whether the slot may hold a document of this type and id (when <see cref="Complete"/>).</summary>
    private bool MayBeWritten(Type type, string id)
    {
        if (!_written.TryGetValue(type, out var filter))
        {
            return false;
        }

        foreach (var bit in Bits(id))
        {
            if ((filter[bit >> 6] & (1UL << (bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Three positions of an id in a filter (from two independent hashes).</summary>
    private static int[] Bits(string id)
    {
        var h1 = (uint)string.GetHashCode(id, StringComparison.Ordinal);
        var h2 = 2166136261u; // FNV-1a
        foreach (var c in id)
        {
            h2 = (h2 ^ c) * 16777619u;
        }

        h2 |= 1;
        return [(int)(h1 % FilterBits), (int)((h1 + h2) % FilterBits), (int)((h1 + 2 * h2) % FilterBits)];
    }

    private Dictionary<string, Entry> Map(Type type) =>
        _documents.TryGetValue(type, out var map) ? map : _documents[type] = new Dictionary<string, Entry>(StringComparer.Ordinal);

    private record struct Entry(byte[] Json, int Stamp, bool Dirty);

    private sealed class CachedSource(RebuildCache cache, IQuerySession slot) : IDocumentSource
    {
        public async Task<IReadOnlyDictionary<string, T>> LoadManyAsync<T>(IReadOnlyCollection<string> ids, CancellationToken cancellation)
            where T : class, IEntityState
        {
            var found = new Dictionary<string, T>(ids.Count, StringComparer.Ordinal);
            var map = cache.Map(typeof(T));
            List<string>? missing = null;
            foreach (var id in ids)
            {
                if (map.TryGetValue(id, out var entry))
                {
                    found[id] = cache._serializer.FromJson<T>(new MemoryStream(entry.Json, writable: false));
                }
                else if (!cache.Complete || cache.MayBeWritten(typeof(T), id))
                {
                    (missing ??= []).Add(id);
                }
            }

            if (missing is not null)
            {
                foreach (var (id, document) in await slot.LoadAllAsync<T>(missing, cache._rowsPerCommand, cancellation))
                {
                    found[id] = document;
                }
            }

            return found;
        }
    }
}

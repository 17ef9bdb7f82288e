using System.Collections.Concurrent;
using Marten;

namespace Projections.ReadModels;

/// <summary>
/// Writes many projection documents of one type and one slot with an upsert statement per
/// <c>Projections:RowsPerCommand</c> documents, queued in the projection batch's own transaction. A batch touches
/// thousands of entity states; Marten's <c>Store</c> queues one upsert command per document, and executing those
/// dominated the cost of catching up and of a rebuild. The statement writes Marten's document table exactly as Marten's
/// upsert does (same columns, a fresh <c>mt_version</c>), so Marten loads and queries the documents as usual.
/// <para>
/// Each statement is a database command of its own (the store sends one queued operation per command,
/// <see cref="StoreSetup"/>), with the command timeout to itself: however many documents a batch writes, no command
/// outruns the timeout because the batch is large (one did, and was retried whole, for ever).
/// </para>
/// </summary>
public static class BulkDocuments
{
    private static readonly ConcurrentDictionary<(IDocumentStore, Type), string> Statements = new();

    /// <summary>Queues the upsert of <paramref name="documents"/> (distinct ids) into the slot's documents of type
    /// <typeparamref name="T"/>, in statements of at most <paramref name="rowsPerCommand"/> documents.</summary>
    public static void StoreAll<T>(this IDocumentOperations slot, IReadOnlyCollection<T> documents, int rowsPerCommand) where T : class, IEntityState
    {
        if (documents.Count == 0)
        {
            return;
        }

        var serializer = slot.DocumentStore.Options.Serializer();
        var ids = new string[documents.Count];
        var data = new string[documents.Count];
        var i = 0;
        foreach (var document in documents)
        {
            (ids[i], data[i]) = (document.Id, serializer.ToJson(document));
            i++;
        }

        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Length)
        {
            throw new ArgumentException($"Two {typeof(T).Name} documents with the same id in one write.", nameof(documents));
        }

        var sql = Statements.GetOrAdd((slot.DocumentStore, typeof(T)), key => UpsertSql(key.Item1, key.Item2));
        foreach (var (someIds, theirData) in ids.Chunk(rowsPerCommand).Zip(data.Chunk(rowsPerCommand)))
        {
            slot.QueueSqlCommand(sql, slot.TenantId, typeof(T).FullName!, someIds, theirData);
        }
    }

    /// <summary>Queues the upsert of documents of <paramref name="type"/> already serialized (UTF-8 JSON), with distinct ids,
    /// in statements of at most <paramref name="rowsPerCommand"/> documents.</summary>
    /// <param name="fresh">Whether the slot is known to hold none of these ids: then they are inserted
    /// (<see cref="MartenTables.InsertDocuments"/>), cheaper than the upsert, and an id already there fails the write.</param>
    public static void StoreAllJson(this IDocumentOperations slot, Type type, IReadOnlyList<string> ids, IReadOnlyList<byte[]> json, int rowsPerCommand,
        bool fresh = false)
    {
        if (ids.Count == 0)
        {
            return;
        }

        // Sent as bytes and read as UTF-8 by PostgreSQL: no second copy of every document as a .NET string.
        var sql = (fresh ? Utf8Inserts : Utf8Statements).GetOrAdd((slot.DocumentStore, type), key =>
            fresh ? MartenTables.InsertDocuments(Table(key.Item1, key.Item2), utf8: true) : UpsertSql(key.Item1, key.Item2, utf8: true));
        foreach (var (someIds, theirJson) in ids.Chunk(rowsPerCommand).Zip(json.Chunk(rowsPerCommand)))
        {
            slot.QueueSqlCommand(sql, slot.TenantId, type.FullName!, someIds, theirJson);
        }
    }

    /// <summary>The documents of type <typeparamref name="T"/> with these ids (ids with no document are left out), loaded
    /// in queries of at most <paramref name="rowsPerCommand"/> ids, each a command with the timeout to itself.</summary>
    public static async Task<Dictionary<string, T>> LoadAllAsync<T>(this IQuerySession slot, IReadOnlyCollection<string> ids, int rowsPerCommand,
        CancellationToken cancellation) where T : class, IEntityState
    {
        var found = new Dictionary<string, T>(ids.Count, StringComparer.Ordinal);
        foreach (var chunk in ids.Chunk(rowsPerCommand))
        {
            foreach (var document in await slot.LoadManyAsync<T>(cancellation, chunk))
            {
                found[document.Id] = document;
            }
        }

        return found;
    }

    private static readonly ConcurrentDictionary<(IDocumentStore, Type), string> Utf8Statements = new();
    private static readonly ConcurrentDictionary<(IDocumentStore, Type), string> Utf8Inserts = new();

    private static string UpsertSql(IDocumentStore store, Type type, bool utf8 = false) => MartenTables.UpsertDocuments(Table(store, type), utf8);

    private static string Table(IDocumentStore store, Type type) => store.Options.FindOrResolveDocumentType(type).TableName.QualifiedName;
}

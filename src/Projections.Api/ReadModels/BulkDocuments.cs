using System.Collections.Concurrent;
using Marten;

namespace Projections.ReadModels;

/// <summary>
/// Writes many projection documents of one type and one slot with a single upsert statement, queued in the
/// projection batch's own transaction. A batch touches thousands of entity states; Marten's <c>Store</c> queues one
/// upsert command per document, and executing those dominated the cost of catching up and of a rebuild. The statement
/// writes Marten's document table exactly as Marten's upsert does (same columns, a fresh <c>mt_version</c>), so
/// Marten loads and queries the documents as usual.
/// </summary>
public static class BulkDocuments
{
    private static readonly ConcurrentDictionary<(IDocumentStore, Type), string> Statements = new();

    /// <summary>Queues the upsert of <paramref name="documents"/> (distinct ids) into the slot's documents of type
    /// <typeparamref name="T"/>.</summary>
    public static void StoreAll<T>(this IDocumentOperations slot, IReadOnlyCollection<T> documents) where T : class, IEntityState
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

        slot.QueueSqlCommand(Statements.GetOrAdd((slot.DocumentStore, typeof(T)), key => UpsertSql(key.Item1, key.Item2)),
            slot.TenantId, typeof(T).FullName!, ids, data);
    }

    /// <summary>Queues the upsert of documents of <paramref name="type"/> already serialized (UTF-8 JSON), with distinct ids.</summary>
    public static void StoreAllJson(this IDocumentOperations slot, Type type, IReadOnlyList<string> ids, IReadOnlyList<byte[]> json)
    {
        if (ids.Count == 0)
        {
            return;
        }

        // Sent as bytes and read as UTF-8 by PostgreSQL: no second copy of every document as a .NET string.
        slot.QueueSqlCommand(Utf8Statements.GetOrAdd((slot.DocumentStore, type), key => UpsertSql(key.Item1, key.Item2, utf8: true)),
            slot.TenantId, type.FullName!, ids.ToArray(), json.ToArray());
    }

    private static readonly ConcurrentDictionary<(IDocumentStore, Type), string> Utf8Statements = new();

    private static string UpsertSql(IDocumentStore store, Type type, bool utf8 = false) =>
        MartenTables.UpsertDocuments(store.Options.FindOrResolveDocumentType(type).TableName.QualifiedName, utf8);
}

using Marten;

namespace Projections.ReadModels;

/// <summary>
/// The documents a projection batch writes, by type and id (a later document with the same id replaces an earlier
/// one). Written with bulk upserts per type (<see cref="BulkDocuments"/>), in the batch's own transaction.
/// </summary>
public sealed class DocumentChanges
{
    private readonly Dictionary<Type, IDocumentSet> _sets = [];

    public void Store<T>(IEnumerable<T> documents) where T : class, IEntityState
    {
        var set = Set<T>();
        foreach (var document in documents)
        {
            set.Documents[document.Id] = document;
        }
    }

    public void Store<T>(T document) where T : class, IEntityState => Set<T>().Documents[document.Id] = document;

    /// <summary>The document of this type and id, when this holds one.</summary>
    public T? Find<T>(string id) where T : class, IEntityState =>
        _sets.TryGetValue(typeof(T), out var set) ? ((DocumentSet<T>)set).Documents.GetValueOrDefault(id) : null;

    /// <summary>Takes in everything <paramref name="later"/> holds, replacing documents with the same id.</summary>
    public void Absorb(DocumentChanges later)
    {
        foreach (var set in later._sets.Values)
        {
            set.CopyTo(this);
        }
    }

    /// <summary>Every document, with its type and id.</summary>
    public IEnumerable<(Type Type, string Id, object Document)> All() =>
        _sets.SelectMany(set => set.Value.Documents().Select(d => (set.Key, d.Id, (object)d)));

    /// <summary>Queues the upserts into the slot's session, at most <paramref name="rowsPerCommand"/> documents a statement;
    /// they run when the batch commits.</summary>
    public void QueueInto(IDocumentOperations slot, int rowsPerCommand)
    {
        foreach (var set in _sets.Values)
        {
            set.QueueInto(slot, rowsPerCommand);
        }
    }

    private DocumentSet<T> Set<T>() where T : class, IEntityState =>
        (DocumentSet<T>)(_sets.TryGetValue(typeof(T), out var set) ? set : _sets[typeof(T)] = new DocumentSet<T>());

    private interface IDocumentSet
    {
        void QueueInto(IDocumentOperations slot, int rowsPerCommand);

        void CopyTo(DocumentChanges other);

        IEnumerable<IEntityState> Documents();
    }

    private sealed class DocumentSet<T> : IDocumentSet where T : class, IEntityState
    {
        public Dictionary<string, T> Documents { get; } = new(StringComparer.Ordinal);

        public void QueueInto(IDocumentOperations slot, int rowsPerCommand) => slot.StoreAll(Documents.Values, rowsPerCommand);

        public void CopyTo(DocumentChanges other) => other.Store(Documents.Values);

        IEnumerable<IEntityState> IDocumentSet.Documents() => Documents.Values;
    }
}

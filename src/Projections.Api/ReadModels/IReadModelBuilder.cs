using Marten;

namespace Projections.ReadModels;

/// <summary>
/// What a projection does with its events, against one slot of its documents (see
/// <see cref="SlottedProjection"/>, which decides the slot and writes what this computes).
/// </summary>
public interface IReadModelBuilder
{
    /// <summary>The projection's name (its shard is <c>{Name}:All</c>).</summary>
    string Name { get; }

    /// <summary>The only events loaded for this projection.</summary>
    IReadOnlyList<Type> EventTypes { get; }

    /// <summary>The document types this projection writes.</summary>
    IReadOnlyList<Type> DocumentTypes { get; }

    /// <summary>
    /// What the projection's documents cover beyond its events, by configuration (the analytics: the time zones they
    /// keep buckets for besides UTC). A slot covers what it has kept from the first event on: coverage added later is
    /// served once a rebuild has filled it (<see cref="ProjectionSlots.Coverage"/>).
    /// </summary>
    IReadOnlyList<string> Coverage => [];

    /// <summary>
    /// Loads the documents the events (their data, in sequence order) touch, applies the events and returns the
    /// documents to write. Writes nothing itself: a batch that throws leaves nothing behind, so it can be tried again
    /// without the event that made it throw (see <see cref="EventIsolation"/>).
    /// </summary>
    Task<DocumentChanges> PrepareAsync(IDocumentSource source, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation);
}

/// <summary>An event as a projection sees it: its data, and its place in its entity's stream (1 for the entity's first).</summary>
public readonly record struct ProjectedEvent(object Data, long Version);

/// <summary>Where a projection batch loads its documents from: one slot, plus what earlier steps of the batch computed.</summary>
public interface IDocumentSource
{
    /// <summary>The documents of type <typeparamref name="T"/> with these ids; ids with no document are left out. Every
    /// call returns new objects, which the caller may change.</summary>
    Task<IReadOnlyDictionary<string, T>> LoadManyAsync<T>(IReadOnlyCollection<string> ids, CancellationToken cancellation)
        where T : class, IEntityState;
}

/// <summary>The documents of one slot, as committed (a projection batch's own writes run only when it commits), loaded at
/// most <paramref name="rowsPerCommand"/> a query.</summary>
public sealed class SlotSource(IQuerySession slot, int rowsPerCommand) : IDocumentSource
{
    public async Task<IReadOnlyDictionary<string, T>> LoadManyAsync<T>(IReadOnlyCollection<string> ids, CancellationToken cancellation)
        where T : class, IEntityState =>
        await slot.LoadAllAsync<T>(ids, rowsPerCommand, cancellation);
}

/// <summary>A projection document keyed by a string id.</summary>
public interface IEntityState
{
    string Id { get; }
}

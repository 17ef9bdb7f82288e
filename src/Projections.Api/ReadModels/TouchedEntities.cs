namespace Projections.ReadModels;

/// <summary>
/// The retract/apply loop the projections are built on: the entities a batch touches are loaded at once; each one's old
/// contribution is taken out, its events are applied in order, and its new contribution is put back. So figures never
/// depend on the order of different entities' events, a late event updates wherever its entity counts (an order's
/// placement day, a user's role), and a rebuild reproduces the same documents.
/// </summary>
/// <param name="create">A new entity's state, for an id with none stored.</param>
/// <param name="apply">Applies one event to an entity's state.</param>
public sealed class TouchedEntities<TState>(Func<string, TState> create, Action<TState, object> apply) where TState : class, IEntityState
{
    private readonly Dictionary<string, List<object>> _events = new(StringComparer.Ordinal);

    public bool IsEmpty => _events.Count == 0;

    /// <summary>An event of the entity, in the order the batch holds them.</summary>
    public void Add(string entity, object @event)
    {
        if (!_events.TryGetValue(entity, out var events))
        {
            _events[entity] = events = [];
        }

        events.Add(@event);
    }

    /// <summary>Loads the entities' states, applies their events between taking out and putting back what each
    /// contributes, and adds the states to the documents to write.</summary>
    /// <param name="source">Where the states are loaded from.</param>
    /// <param name="result">The batch's documents.</param>
    /// <param name="contribute">Adds (sign 1) or takes out (sign -1) what one entity contributes.</param>
    /// <param name="cancellation">Cancels the loading.</param>
    public async Task ApplyAsync(IDocumentSource source, DocumentChanges result, Action<TState, int> contribute, CancellationToken cancellation)
    {
        if (IsEmpty)
        {
            return;
        }

        var stored = await source.LoadManyAsync<TState>(_events.Keys, cancellation);
        var states = new List<TState>(_events.Count);
        foreach (var (id, events) in _events)
        {
            var state = stored.GetValueOrDefault(id) ?? create(id);
            contribute(state, -1);
            foreach (var @event in events)
            {
                apply(state, @event);
            }

            contribute(state, +1);
            states.Add(state);
        }

        result.Store(states);
    }
}

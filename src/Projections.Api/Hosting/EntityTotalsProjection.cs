namespace Projections.Hosting;

/// <summary>
/// The shape shared by the Metrics API projections: each entity keeps a small state document, and one totals document
/// holds what all entities add up to. For every daemon batch (one transaction) the states of the entities it touches
/// are loaded at once; each entity's old contribution is taken out of the totals, its events are applied in order, and
/// its new contribution is put back. Totals therefore never depend on the order of different entities' events, and a
/// rebuild (which starts from empty documents) reproduces the same documents.
/// </summary>
public abstract class EntityTotalsProjection<TState, TTotals>(string name, IEnumerable<Type> eventTypes) : IReadModelBuilder
    where TState : class, IEntityState
    where TTotals : class, IEntityState
{
    public string Name { get; } = name;

    public IReadOnlyList<Type> EventTypes { get; } = [.. eventTypes];

    public IReadOnlyList<Type> DocumentTypes { get; } = [typeof(TState), typeof(TTotals)];

    protected abstract string TotalsId { get; }

    /// <summary>The entity an event belongs to, or null when this projection ignores the event.</summary>
    protected abstract string? EntityOf(object @event);

    protected abstract TState NewState(string id);

    protected abstract TTotals NewTotals();

    protected abstract void Apply(TState state, object @event);

    /// <summary>Adds (sign 1) or removes (sign -1) what one entity contributes to the totals.</summary>
    protected abstract void Count(TTotals totals, TState state, int sign);

    public async Task<DocumentChanges> PrepareAsync(IDocumentSource source, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        var changes = new DocumentChanges();
        List<(string Entity, object Data)>? relevant = null;
        foreach (var e in events)
        {
            if (EntityOf(e.Data) is { } entity)
            {
                (relevant ??= []).Add((entity, e.Data));
            }
        }

        if (relevant is null)
        {
            return changes;
        }

        var ids = relevant.Select(r => r.Entity).Distinct(StringComparer.Ordinal).ToList();
        var stored = await source.LoadManyAsync<TState>(ids, cancellation);
        var totals = (await source.LoadManyAsync<TTotals>([TotalsId], cancellation)).GetValueOrDefault(TotalsId) ?? NewTotals();

        var touched = new Dictionary<string, TState>(ids.Count, StringComparer.Ordinal);
        foreach (var (entity, data) in relevant)
        {
            if (!touched.TryGetValue(entity, out var state))
            {
                state = stored.GetValueOrDefault(entity) ?? NewState(entity);
                Count(totals, state, -1);
                touched[entity] = state;
            }

            Apply(state, data);
        }

        foreach (var state in touched.Values)
        {
            Count(totals, state, +1);
        }

        changes.Store(touched.Values);
        changes.Store(totals);
        return changes;
    }
}

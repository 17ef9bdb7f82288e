namespace Projections.ReadModels;

/// <summary>
/// The shape shared by the Metrics API projections: each entity keeps a small state document, and one totals document
/// holds what all entities add up to, kept by the retract/apply loop of <see cref="TouchedEntities{TState}"/>.
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
        var result = new DocumentChanges();
        var touched = new TouchedEntities<TState>(NewState, Apply);
        foreach (var e in events)
        {
            if (EntityOf(e.Data) is { } entity)
            {
                touched.Add(entity, e.Data);
            }
        }

        if (touched.IsEmpty)
        {
            return result;
        }

        var totals = (await source.LoadManyAsync<TTotals>([TotalsId], cancellation)).GetValueOrDefault(TotalsId) ?? NewTotals();
        await touched.ApplyAsync(source, result, (state, sign) => Count(totals, state, sign), cancellation);
        result.Store(totals);
        return result;
    }
}

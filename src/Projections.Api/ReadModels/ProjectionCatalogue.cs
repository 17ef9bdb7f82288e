// ReadModels/: the projection engine. Marten's setup (StoreSetup) and every SQL statement on Marten's tables
// (MartenTables); what a projection is (IReadModelBuilder, prepared batches, the retract/apply loop of TouchedEntities,
// EntityTotalsProjection), how a batch is run (SlottedProjection: blue/green slots, rebuilds, set-aside events and their
// replay, EventIsolation), written (BulkDocuments) and read (ProjectionProgress, ReadModelCache, ReadModelEndpoint).
// Uses Hosting and Auth only; the projections themselves live in their domain folders and are listed in Catalogue.cs.
using System.Collections.Frozen;

namespace Projections.ReadModels;

/// <summary>A projection as the engine runs it: what it does with its events, and where its progress is recorded.</summary>
public sealed class CataloguedProjection(IReadModelBuilder builder)
{
    public IReadModelBuilder Builder { get; } = builder;

    public string Name => Builder.Name;

    /// <summary>The daemon's shard for the projection, whose progress Marten records under this name.</summary>
    public string Shard { get; } = builder.Name + ":All";

    public IReadOnlyList<Type> DocumentTypes => Builder.DocumentTypes;
}

/// <summary>
/// Every projection of the service, in one list (given by <c>Catalogue.cs</c>): Marten's setup, the daemon's progress,
/// reads, rebuilds, set-aside events, status, health and telemetry all read it from here.
/// </summary>
public sealed class ProjectionCatalogue
{
    private readonly FrozenDictionary<string, CataloguedProjection> _byName;

    public ProjectionCatalogue(IEnumerable<IReadModelBuilder> builders)
    {
        Projections = [.. builders.Select(b => new CataloguedProjection(b))];
        _byName = Projections.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<CataloguedProjection> Projections { get; }

    public IEnumerable<string> Names => Projections.Select(p => p.Name);

    public CataloguedProjection? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The shard a projection's progress is recorded under.</summary>
    public string ShardOf(string projection) => _byName[projection].Shard;
}

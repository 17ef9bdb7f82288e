using Marten;

namespace Projections.Hosting;

/// <summary>
/// What a projection does with its events, written against one slot of its documents (see
/// <see cref="Rebuilds.SlottedProjection"/>, which decides the slot).
/// </summary>
public interface IReadModelBuilder
{
    /// <summary>The projection's name (its shard is <c>{Name}:All</c>).</summary>
    string Name { get; }

    /// <summary>The only events loaded for this projection.</summary>
    IReadOnlyList<Type> EventTypes { get; }

    /// <summary>The document types this projection writes.</summary>
    IReadOnlyList<Type> DocumentTypes { get; }

    /// <summary>Applies events (their data, in sequence order) to the documents of one slot. Called once per batch and
    /// slot: the documents it loads must not have changes queued in the same batch.</summary>
    Task ApplyAsync(IDocumentOperations slot, IReadOnlyList<object> events, CancellationToken cancellation);
}

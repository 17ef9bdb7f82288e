using Projections.Artists;
using Projections.ReadModels;

namespace Projections.Analytics;

/// <summary>An artist's display name: the one from the <c>artist.profile_updated</c> with the latest <c>occurredAt</c>.</summary>
public sealed class ArtistProfile : IEntityState
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    public void Apply(ArtistProfileUpdated e)
    {
        if (Name.Length == 0 || e.OccurredAt >= UpdatedAt)
        {
            (Name, UpdatedAt) = (e.Name, e.OccurredAt);
        }
    }
}

namespace Projections.Artists;

public sealed record ArtistProfileUpdated(string OrgId, string Name, DateTimeOffset OccurredAt);

// Artists/: artist profile events. Uses nothing; the analytics keep each artist's latest name.

namespace Projections.Artists;

public sealed record ArtistProfileUpdated(string OrgId, string Name, DateTimeOffset OccurredAt);

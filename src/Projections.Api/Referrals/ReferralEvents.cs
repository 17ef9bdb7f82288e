// Referrals/: referral clicks and artist-store sales. Uses nothing; the analytics attribute sales to clicks.

namespace Projections.Referrals;

public sealed record ReferralClicked(string ReferralId, string VisitorId, string OrgId, DateTimeOffset OccurredAt);
public sealed record ArtistStoreOrderCompleted(string OrderId, string VisitorId, string OrgId, decimal Amount, string Currency, DateTimeOffset OccurredAt);

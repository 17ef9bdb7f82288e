namespace Projections.Referrals;

public sealed record ReferralClicked(string ReferralId, string VisitorId, string OrgId, DateTimeOffset OccurredAt);
public sealed record ArtistStoreOrderCompleted(string OrderId, string VisitorId, string OrgId, decimal Amount, string Currency, DateTimeOffset OccurredAt);

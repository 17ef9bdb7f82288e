using Projections.Analytics;

namespace Projections.Referrals;

public sealed record Click(string ReferralId, DateTimeOffset At);

public sealed record StoreSale(string OrderId, DateTimeOffset At, decimal Amount);

/// <summary>
/// One visitor's clicks to one artist's store and that visitor's sales in it. Attribution is recomputed from both
/// lists whenever either changes, so a click that arrives after the sale it explains still attributes it.
/// </summary>
public sealed class VisitorReferrals : IDayContributor
{
    public static readonly TimeSpan AttributionWindow = TimeSpan.FromDays(30);

    public string Id { get; set; } = "";
    public List<Click> Clicks { get; set; } = [];
    public List<StoreSale> Sales { get; set; } = [];

    public static string Key(string visitorId, string orgId) => $"{visitorId.Length}:{visitorId}|{orgId}";

    public void Apply(object @event)
    {
        switch (@event)
        {
            // A click is its referralId and a sale its orderId: the same one published twice counts once.
            case ReferralClicked e when Clicks.TrueForAll(c => c.ReferralId != e.ReferralId):
                Clicks.Add(new Click(e.ReferralId, e.OccurredAt));
                break;
            case ArtistStoreOrderCompleted e when Sales.TrueForAll(s => s.OrderId != e.OrderId):
                Sales.Add(new StoreSale(e.OrderId, e.OccurredAt, e.Amount));
                break;
        }
    }

    /// <summary>The click a sale is attributed to: the latest at or before it, at most 30 days before it.</summary>
    public Click? AttributedClick(StoreSale sale) => Clicks
        .Where(c => c.At <= sale.At && c.At >= sale.At - AttributionWindow)
        .OrderByDescending(c => c.At).ThenByDescending(c => c.ReferralId, StringComparer.Ordinal)
        .FirstOrDefault();

    /// <summary>Each click on its UTC day, with whether it converted and the revenue attributed to it.</summary>
    public IEnumerable<(DateOnly Day, AnalyticsFigures Figures)> Contributions()
    {
        var attributed = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var sale in Sales)
        {
            if (AttributedClick(sale) is { } click)
            {
                attributed[click.ReferralId] = attributed.GetValueOrDefault(click.ReferralId) + sale.Amount;
            }
        }

        foreach (var click in Clicks)
        {
            var converted = attributed.TryGetValue(click.ReferralId, out var revenue);
            yield return (DateOnly.FromDateTime(click.At.UtcDateTime),
                new AnalyticsFigures { Referrals = 1, Conversions = converted ? 1 : 0, AttributedRevenue = revenue });
        }
    }
}

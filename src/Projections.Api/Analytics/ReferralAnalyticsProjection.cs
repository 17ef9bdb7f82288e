using Projections.ReadModels;
using Projections.Referrals;

namespace Projections.Analytics;

/// <summary>
/// Keeps the referral side of the Admin Analytics read models: each visitor's referral days and calendars
/// (<see cref="ReferralAttribution"/>) and a <see cref="ReferralBucket"/> of clicks, conversions and attributed revenue
/// per day and per month in each zone, under the same ids as the gallery's buckets; a report adds the two. A projection
/// of its own, beside <see cref="GalleryAnalyticsProjection"/>, so that a rebuild replays the two side by side and live
/// batches of each run on their own. A late click attributes a sale to the click's day, whatever the arrival order. A
/// referral click or store sale counts once per referral id or store order: only the first event of its stream is
/// applied, however often it is published under new envelope ids.
/// </summary>
/// <param name="zones">UTC and the configured zones: each has its own day and month buckets.</param>
public sealed class ReferralAnalyticsProjection(AnalyticsZones zones) : IReadModelBuilder
{
    public const string ProjectionName = "ReferralAnalytics";

    public string Name => ProjectionName;

    /// <summary>The zones besides UTC that this projection keeps buckets for (as the gallery's).</summary>
    public IReadOnlyList<string> Coverage { get; } = [.. zones.Ids.Skip(1)];

    public IReadOnlyList<Type> EventTypes { get; } = [typeof(ReferralClicked), typeof(ArtistStoreOrderCompleted)];

    public IReadOnlyList<Type> DocumentTypes { get; } = [typeof(ReferralDay), typeof(ReferralCalendar), typeof(ReferralBucket)];

    public async Task<DocumentChanges> PrepareAsync(IDocumentSource source, IReadOnlyList<ProjectedEvent> events, CancellationToken cancellation)
    {
        var result = new DocumentChanges();
        var referrals = new ReferralAttribution();
        foreach (var (data, version) in events)
        {
            switch (data)
            {
                case ReferralClicked x when version == 1: referrals.Add(x); break;
                case ArtistStoreOrderCompleted x when version == 1: referrals.Add(x); break;
            }
        }

        // What each changed visitor's day adds to the buckets of its clicks' days, before (-1) and after (+1).
        var changes = new List<DayChange>();
        await referrals.ApplyAsync(source, result, changes, cancellation);
        await DayBuckets.FileAsync(source, result, zones, changes, (id, _) => new ReferralBucket { Id = id }, cancellation);
        return result;
    }
}

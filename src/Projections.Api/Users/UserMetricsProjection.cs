// Users/: user events, each user's state and the user counts of the Metrics API (UserMetrics) with their projection
// and JSON fields. Uses ReadModels.
using Projections.ReadModels;

namespace Projections.Users;

/// <summary>Keeps <see cref="UserMetrics"/> (counts by role) from the user events, through one <see cref="UserState"/> per user.</summary>
public sealed class UserMetricsProjection()
    : EntityTotalsProjection<UserState, UserMetrics>(ProjectionName, IUserEvent.Types)
{
    public const string ProjectionName = "UserMetrics";

    protected override string TotalsId => UserMetrics.DocumentId;

    protected override string? EntityOf(object @event) => (@event as IUserEvent)?.UserId;

    protected override UserState NewState(string id) => new() { Id = id };

    protected override UserMetrics NewTotals() => new();

    protected override void Apply(UserState state, object @event) => state.Apply(@event);

    protected override void Count(UserMetrics totals, UserState state, int sign) => totals.Count(state, sign);
}

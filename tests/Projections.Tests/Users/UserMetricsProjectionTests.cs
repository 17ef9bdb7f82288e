using Projections.Users;

namespace Projections.Tests.Users;

/// <summary>The user projection's rules, event in, document out (no host, no database).</summary>
public sealed class UserMetricsProjectionTests
{
    private static readonly DateTimeOffset At = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private static (UserState State, UserMetrics Totals) Replay(params object[] events)
    {
        var state = new UserState { Id = "u-1" };
        var totals = new UserMetrics();
        foreach (var e in events)
        {
            totals.Count(state, -1);
            state.Apply(e);
            totals.Count(state, +1);
        }

        return (state, totals);
    }

    [Fact]
    public void A_registered_user_counts_under_its_role_with_its_flags()
    {
        var (_, totals) = Replay(new UserRegistered("u-1", UserRole.Staff, Active: false, EmailVerified: true, PhoneVerified: false, At));
        Assert.Equal((1, 0, 1, 1, 0), (totals.Staff.Total, totals.Staff.Active, totals.Staff.Inactive, totals.Staff.EmailVerified, totals.Staff.PhoneVerified));
        Assert.Equal(0, totals.Customers.Total + totals.Admins.Total);
    }

    [Fact]
    public void A_role_change_moves_every_count_to_the_new_role()
    {
        var (_, totals) = Replay(
            new UserRegistered("u-1", UserRole.Customer, true, true, true, At),
            new UserRoleChanged("u-1", UserRole.Admin, At));
        Assert.Equal((0, 0, 0, 0), (totals.Customers.Total, totals.Customers.Active, totals.Customers.EmailVerified, totals.Customers.PhoneVerified));
        Assert.Equal((1, 1, 1, 1), (totals.Admins.Total, totals.Admins.Active, totals.Admins.EmailVerified, totals.Admins.PhoneVerified));
    }

    [Fact]
    public void A_changed_address_is_unverified_until_verified_again()
    {
        var (state, totals) = Replay(
            new UserRegistered("u-1", UserRole.Customer, true, true, true, At),
            new UserEmailChanged("u-1", At),
            new UserPhoneChanged("u-1", At));
        Assert.False(state.EmailVerified);
        Assert.Equal((0, 0), (totals.Customers.EmailVerified, totals.Customers.PhoneVerified));

        totals.Count(state, -1);
        state.Apply(new UserEmailVerified("u-1", At));
        totals.Count(state, +1);
        Assert.Equal(1, totals.Customers.EmailVerified);
    }

    [Fact]
    public void Deactivation_and_activation_move_the_user_between_active_and_inactive()
    {
        var (_, totals) = Replay(
            new UserRegistered("u-1", UserRole.Customer, true, false, false, At),
            new UserDeactivated("u-1", At));
        Assert.Equal((1, 0, 1), (totals.Customers.Total, totals.Customers.Active, totals.Customers.Inactive));
    }

    [Fact]
    public void A_deleted_user_counts_nowhere()
    {
        var (_, totals) = Replay(
            new UserRegistered("u-1", UserRole.Customer, true, true, true, At),
            new UserDeleted("u-1", At));
        Assert.Equal((0, 0, 0, 0, 0), (totals.Customers.Total, totals.Customers.Active, totals.Customers.Inactive,
            totals.Customers.EmailVerified, totals.Customers.PhoneVerified));
    }

    [Fact]
    public void Events_of_a_user_that_was_never_registered_count_nowhere()
    {
        var (_, totals) = Replay(new UserActivated("u-1", At), new UserEmailVerified("u-1", At));
        Assert.Equal(0, totals.Customers.Total + totals.Staff.Total + totals.Admins.Total);
    }
}

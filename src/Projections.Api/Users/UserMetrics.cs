namespace Projections.Users;

/// <summary>What the projection remembers of one user: enough to know which counts it is in.</summary>
public sealed class UserState : Projections.ReadModels.IEntityState
{
    public string Id { get; set; } = "";
    public bool Registered { get; set; }
    public bool Deleted { get; set; }
    public UserRole Role { get; set; }
    public bool Active { get; set; }
    public bool EmailVerified { get; set; }
    public bool PhoneVerified { get; set; }

    public void Apply(object @event)
    {
        switch (@event)
        {
            case UserRegistered e:
                (Registered, Deleted, Role, Active, EmailVerified, PhoneVerified) = (true, false, e.Role, e.Active, e.EmailVerified, e.PhoneVerified);
                break;
            case UserRoleChanged e: Role = e.Role; break;
            case UserActivated: Active = true; break;
            case UserDeactivated: Active = false; break;
            case UserEmailVerified: EmailVerified = true; break;
            case UserPhoneVerified: PhoneVerified = true; break;
            // A changed address is not verified yet.
            case UserEmailChanged: EmailVerified = false; break;
            case UserPhoneChanged: PhoneVerified = false; break;
            case UserDeleted: Deleted = true; break;
        }
    }

    /// <summary>A user counts once registered and until deleted.</summary>
    public bool Counts => Registered && !Deleted;
}

public sealed class RoleCounts
{
    public long Total { get; set; }
    public long Active { get; set; }
    public long Inactive { get; set; }
    public long EmailVerified { get; set; }
    public long PhoneVerified { get; set; }
}

/// <summary>The user counts of the Metrics API, by role. One document, kept by <see cref="UserMetricsProjection"/>.</summary>
public sealed class UserMetrics : Projections.ReadModels.IEntityState
{
    public const string DocumentId = "users";

    public string Id { get; set; } = DocumentId;
    public RoleCounts Customers { get; set; } = new();
    public RoleCounts Staff { get; set; } = new();
    public RoleCounts Admins { get; set; } = new();

    public RoleCounts For(UserRole role) => role switch
    {
        UserRole.Customer => Customers,
        UserRole.Staff => Staff,
        _ => Admins,
    };

    /// <summary>Adds (<paramref name="sign"/> = 1) or removes (-1) what one user contributes to the counts.</summary>
    public void Count(UserState user, int sign)
    {
        if (!user.Counts)
        {
            return;
        }

        var counts = For(user.Role);
        counts.Total += sign;
        if (user.Active)
        {
            counts.Active += sign;
        }
        else
        {
            counts.Inactive += sign;
        }

        if (user.EmailVerified)
        {
            counts.EmailVerified += sign;
        }

        if (user.PhoneVerified)
        {
            counts.PhoneVerified += sign;
        }
    }
}

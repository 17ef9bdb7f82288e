namespace Projections.Users;

// Internal event records, stored in Marten's event store under their v1 wire names (see Ingest/EventContract.cs).
// Every event carries the publisher's `occurredAt`; the store's own timestamp is only the time of arrival.

public enum UserRole { Customer, Staff, Admin }

public interface IUserEvent
{
    string UserId { get; }

    /// <summary>Every user event type.</summary>
    static IReadOnlyList<Type> Types { get; } =
    [
        typeof(UserRegistered), typeof(UserRoleChanged), typeof(UserActivated), typeof(UserDeactivated), typeof(UserEmailVerified),
        typeof(UserPhoneVerified), typeof(UserEmailChanged), typeof(UserPhoneChanged), typeof(UserDeleted),
    ];
}

public sealed record UserRegistered(string UserId, UserRole Role, bool Active, bool EmailVerified, bool PhoneVerified, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserRoleChanged(string UserId, UserRole Role, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserActivated(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserDeactivated(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserEmailVerified(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserPhoneVerified(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserEmailChanged(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserPhoneChanged(string UserId, DateTimeOffset OccurredAt) : IUserEvent;
public sealed record UserDeleted(string UserId, DateTimeOffset OccurredAt) : IUserEvent;

using Npgsql;
using Projections.ReadModels;

namespace Projections.Tests.ReadModels;

/// <summary>Which failures are searched for an event at fault, and which make the batch fail as a whole (the daemon
/// retries it and status says "retrying"): never set aside good events because the database or the store's machinery
/// failed.</summary>
public sealed class EventIsolationTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new OverflowException("Value was either too large or too small for a Decimal."), true },
        { new ArgumentOutOfRangeException("day"), true },
        { new KeyNotFoundException(), true },
        { new InvalidOperationException("a bug"), true },
        { new System.Text.Json.JsonException("a stored document this version cannot read"), true },
        { new NpgsqlException("connection refused"), false },
        { new InvalidOperationException("wrapped", new NpgsqlException("broken pipe")), false },
        { new Marten.Exceptions.MartenCommandException(new NpgsqlCommand("select 1"), new InvalidOperationException("x")), false },
        { new ObjectDisposedException("session"), false },
        { new OperationCanceledException(), false },
        { new TimeoutException(), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Only_what_applying_events_throws_is_searched_for_the_event_at_fault(Exception failure, bool searched) =>
        Assert.Equal(searched, EventIsolation.IsEventFailure(failure, CancellationToken.None));

    [Fact]
    public void Nothing_is_searched_while_the_batch_is_being_cancelled() =>
        Assert.False(EventIsolation.IsEventFailure(new OverflowException(), new CancellationToken(canceled: true)));
}

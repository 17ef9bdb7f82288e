
namespace Projections.ReadModels;

/// <summary>
/// An event a projection could not apply (it threw: a bug, or history stored before the contract's limits), kept with
/// why, while every other event goes on being counted. Stored in the projection's slot like its read models, so a
/// rebuild starts with none and sets aside again only what still fails; status and the dead-letter routes show the
/// active slot's. Removed when a replay applies the event.
/// </summary>
public sealed class SetAsideEvent : IEntityState
{
    public string Id { get; set; } = "";
    public string Projection { get; set; } = "";
    public Guid EventId { get; set; }
    public long Sequence { get; set; }
    public string Type { get; set; } = "";

    /// <summary>The exception's type and message, e.g. <c>OverflowException: Value was either too large or too small for a Decimal.</c></summary>
    public string Reason { get; set; } = "";

    public DateTimeOffset SetAsideAt { get; set; }

    /// <summary>How often the projection tried to apply it: 1, plus one for every replay that failed again.</summary>
    public int Attempts { get; set; } = 1;

    public static string Key(string projection, Guid eventId) => $"{projection}:{eventId}";

    /// <summary>An exception in one line for an operator: its type and message, or the database's own error when the
    /// database refused (not the statement Marten wraps it in).</summary>
    public static string Describe(Exception error)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is Npgsql.PostgresException postgres)
            {
                return $"PostgreSQL {postgres.SqlState}: {Shorten(postgres.MessageText)}";
            }
        }

        return $"{error.GetType().Name}: {Shorten(error.Message)}";
    }

    private static string Shorten(string text) => text.Length > 500 ? text[..500] + "…" : text;
}

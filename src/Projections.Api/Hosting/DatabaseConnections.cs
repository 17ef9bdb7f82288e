using Npgsql;

namespace Projections.Hosting;

/// <summary>
/// The two ways the service reaches PostgreSQL (README, "Behind a connection pooler").
/// <list type="bullet">
/// <item><c>ConnectionStrings:Postgres</c>, for everything that fits in one transaction: appends, projection batches,
/// reads, status. It may point at a transaction-mode pooler (PgBouncer, Supabase's pooler): the service sends no
/// startup parameters, keeps no session state from one transaction to the next, prepares no statements (Npgsql's
/// <c>Max Auto Prepare</c> stays 0), and does not reset connections it returns to its own pool (<c>No Reset On
/// Close</c>): the <c>DISCARD ALL</c> Npgsql otherwise sends in front of the next command is a second transaction in
/// the same write, which a transaction-mode pooler can hand to another server connection halfway.</item>
/// <item><c>ConnectionStrings:PostgresDirect</c> (optional), straight to the server, for what needs a session: the
/// wake-ups the daemon and the queue listen for (<c>LISTEN</c>) and Wolverine's node leadership (session advisory
/// locks). Without it those use <c>ConnectionStrings:Postgres</c> when notifications arrive through it
/// (<see cref="NotificationsArrive"/>: a direct connection); behind a transaction pooler without it, nothing listens and
/// the daemon finds new events by polling.</item>
/// </list>
/// </summary>
public static class DatabaseConnections
{
    public const string PooledName = "Postgres";
    public const string DirectName = "PostgresDirect";

    /// <summary><c>ConnectionStrings:Postgres</c>, made safe for a transaction-mode pooler.</summary>
    public static string Pooled(IConfiguration configuration) =>
        ForPooler(configuration.GetConnectionString(PooledName)
            ?? throw new InvalidOperationException(
                "ConnectionStrings:Postgres is not set (e.g. the environment variable ConnectionStrings__Postgres)."));

    /// <summary><c>ConnectionStrings:PostgresDirect</c> when set, else <see cref="Pooled"/>.</summary>
    public static string Direct(IConfiguration configuration) =>
        configuration.GetConnectionString(DirectName) is { Length: > 0 } direct ? ForPooler(direct) : Pooled(configuration);

    /// <summary>Whether <c>ConnectionStrings:PostgresDirect</c> is set.</summary>
    public static bool HasDirect(IConfiguration configuration) =>
        configuration.GetConnectionString(DirectName) is { Length: > 0 };

    /// <summary>
    /// Whether a notification sent on one connection reaches a <c>LISTEN</c> on another within <paramref name="wait"/>:
    /// true on a direct connection (in milliseconds), false through a transaction-mode pooler, which hands the listening
    /// session to other clients between transactions. When the database cannot be reached, true (the listener then
    /// connects when it can, as before).
    /// </summary>
    public static bool NotificationsArrive(string connectionString, TimeSpan wait, ILogger logger)
    {
        var channel = $"projections_probe_{Guid.NewGuid():N}";
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        try
        {
            using var listener = new NpgsqlConnection(unpooled);
            listener.Open();
            using (var listen = new NpgsqlCommand($"LISTEN {channel}", listener))
            {
                listen.ExecuteNonQuery();
            }

            using (var sender = new NpgsqlConnection(unpooled))
            {
                sender.Open();
                using var notify = new NpgsqlCommand($"NOTIFY {channel}", sender);
                notify.ExecuteNonQuery();
            }

            return listener.Wait(wait);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(e, "Could not find out whether notifications arrive through ConnectionStrings:Postgres; listening on it");
            return true;
        }
    }

    /// <summary>No reset of pooled connections (see the class); everything else as given.</summary>
    public static string ForPooler(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString;
}

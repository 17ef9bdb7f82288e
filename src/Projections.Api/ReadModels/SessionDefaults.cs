using Microsoft.Extensions.Options;
using Npgsql;
using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>
/// The PostgreSQL settings the service's sessions run with, written as defaults of its own role in its database
/// (<c>ALTER ROLE CURRENT_USER IN DATABASE … SET</c>) at startup, before anything else connects: every new server
/// session, direct or through a transaction-mode pooler such as PgBouncer (which refuses startup parameters), starts
/// with them, and no session state is needed.
/// <list type="bullet">
/// <item><c>client_connection_check_interval</c> (<see cref="ProjectionSettings.DeadClientCheckInterval"/>, PostgreSQL
/// 14+): check, while a query runs, whether the client is still there, so that the statement of a node killed with
/// SIGKILL (a projection batch, a long read) stops within a second instead of running on, holding its locks.</item>
/// <item>With <see cref="ProjectionSettings.TuneQueryPlanner"/>: <c>random_page_cost=1.1</c> and no parallel query. The
/// daemon reads each batch of events joined to <c>mt_streams</c>. With the default costs PostgreSQL often answers that by
/// hashing the whole streams table, with parallel workers, for every batch: a cost that grows with the number of
/// entities and made catching up several times slower at two million events. The index lookups it skipped are in
/// memory, where a random page costs about what a sequential one does.</item>
/// </list>
/// A setting turned off (0, false) is left as the role has it. Sessions opened before (a pooler's server connections from
/// an earlier start) keep what they had until they are replaced. When the database cannot be reached, the service
/// starts anyway, says so, and runs with the server's defaults in the sessions it opens meanwhile.
/// </summary>
public sealed class SessionDefaults(IConfiguration configuration, IOptions<ProjectionSettings> settings, ILogger<SessionDefaults> logger) : IHostedService
{
    /// <summary>The settings, as (name, value) pairs, the configuration asks for.</summary>
    public static IReadOnlyList<(string Name, string Value)> For(ProjectionSettings settings)
    {
        var wanted = new List<(string, string)>();
        if (settings.DeadClientCheckInterval > TimeSpan.Zero)
        {
            wanted.Add(("client_connection_check_interval", ((int)settings.DeadClientCheckInterval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (settings.TuneQueryPlanner)
        {
            wanted.Add(("random_page_cost", "1.1"));
            wanted.Add(("max_parallel_workers_per_gather", "0"));
        }

        return wanted;
    }

    /// <summary>One statement (a pooler runs it in one transaction) that makes the settings the role's defaults here.</summary>
    public static string Sql(IReadOnlyList<(string Name, string Value)> settings) =>
        "DO $$ BEGIN " + string.Concat(settings.Select(s =>
            $"EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET {s.Name} = {s.Value}', current_database()); ")) + "END $$";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var wanted = For(settings.Value);
        if (wanted.Count == 0)
        {
            return;
        }

        var connectionString = DatabaseConnections.Pooled(configuration);

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            // A connection of its own, outside the pool Marten will use, and not kept.
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync(timeout.Token);
            await using var command = new NpgsqlCommand(Sql(wanted), connection);
            await command.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not make {Settings} the defaults of the service's database role; sessions run with the server's defaults",
                string.Join(", ", wanted.Select(w => $"{w.Name}={w.Value}")));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

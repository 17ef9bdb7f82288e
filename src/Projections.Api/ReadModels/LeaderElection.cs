using JasperFx.Events.Daemon;
using Marten;
using Marten.Events.Daemon.Coordination;
using Marten.Storage;
using Npgsql;
using NpgsqlTypes;
using Polly;
using Polly.Retry;

namespace Projections.ReadModels;

/// <summary>
/// Which node runs each projection (HotCold: one node per projection, the others stand by): Marten's coordinator loop
/// and distribution, with a leader lock of the service's own (<see cref="TransactionLeaderLock"/>) on the connection
/// <see cref="Hosting.DatabaseConnections"/> gives it. Marten's own lock prepares its statement, which a transaction
/// pooler without prepared-statement support (PgBouncer before 1.21) hands to another client's session, where it
/// clashes ("prepared statement already exists"): a standby could then not take over for many seconds.
/// </summary>
public sealed class LeaderElection : ProjectionCoordinatorBase, Marten.Events.Daemon.Coordination.IProjectionCoordinator
{
    private readonly DocumentStore _store;
    private readonly Lazy<IProjectionDaemon> _daemon;
    private readonly List<IProjectionDaemon> _resolved = [];

    public LeaderElection(IDocumentStore store, [FromKeyedServices(StoreSetup.SessionSource)] NpgsqlDataSource locks, ILoggerFactory loggers)
        : this((DocumentStore)store, locks, loggers)
    {
    }

    private LeaderElection(DocumentStore store, NpgsqlDataSource locks, ILoggerFactory loggers)
        : base(Distribute(store, locks, loggers.CreateLogger<TransactionLeaderLock>()), loggers.CreateLogger<LeaderElection>(),
            StartRetries, store.Options.Events.TimeProvider,
            TimeSpan.FromMilliseconds(store.Options.Projections.LeadershipPollingTime), store.Options.Projections.AgentPauseTime,
            store.Options.Projections.HealthCheckPollingTime)
    {
        _store = store;
        var logger = loggers.CreateLogger<LeaderElection>();
        // One database (no tenancy by database): one daemon, made when first needed.
        _daemon = new Lazy<IProjectionDaemon>(() =>
        {
            var daemon = store.BuildProjectionDaemonAsync(logger: logger).GetAwaiter().GetResult();
            lock (_resolved)
            {
                _resolved.Add(daemon);
            }

            return daemon;
        });
    }

    /// <summary>Starting a projection here after taking its lock: retried a few times while the database hiccups.</summary>
    private static readonly ResiliencePipeline StartRetries = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
        })
        .Build();

    private static SingleTenantProjectionDistributor Distribute(DocumentStore store, NpgsqlDataSource locks, ILogger<TransactionLeaderLock> logger) =>
        new(() => (IProjectionDatabase)store.Storage.Database,
            () => store.Options.Projections.AllShards().Select(s => s.Name),
            _ => new TransactionLeaderLock(locks, logger),
            (database, names, lockId) => new ProjectionSet(lockId, (MartenDatabase)database, names),
            store.Options.Events.DatabaseSchemaName, store.Options.Projections.DaemonLockId);

    protected override IProjectionDaemon ResolveDaemon(IProjectionSet set) => _daemon.Value;

    protected override IReadOnlyList<IProjectionDaemon> ResolvedDaemons()
    {
        lock (_resolved)
        {
            return [.. _resolved];
        }
    }

    protected override void ClearResolvedDaemons()
    {
        // The daemon is made once for the store's one database and kept: a later start resumes it.
    }

    public override IProjectionDaemon DaemonForMainDatabase() => _daemon.Value;

    public override ValueTask<IProjectionDaemon> DaemonForDatabase(string databaseIdentifier) => ValueTask.FromResult(_daemon.Value);

    public override ValueTask<IReadOnlyList<IProjectionDaemon>> AllDaemonsAsync() =>
        ValueTask.FromResult<IReadOnlyList<IProjectionDaemon>>([_daemon.Value]);

    /// <summary>The store this coordinates.</summary>
    public IDocumentStore Store => _store;
}

/// <summary>
/// A leader lock per projection: <c>pg_try_advisory_xact_lock</c> in a transaction kept open on a connection of its
/// own, without prepared statements, so that it works the same on a direct connection and through a transaction-mode
/// pooler (where the open transaction keeps one server connection for as long as the lock is held). The lock ends
/// with its transaction or its server session: a leader killed with SIGKILL loses its sockets, the server (or the
/// pooler, which closes a server connection whose client vanished mid-transaction) ends the session, and a standby
/// takes the lock at its next attempt. Each held lock is checked every <see cref="CheckInterval"/> with a trivial
/// statement in its transaction: a lost connection is noticed (the projection stops here, so that no two nodes run
/// it) and the session is never idle long enough for an <c>idle_in_transaction_session_timeout</c>.
/// </summary>
public sealed class TransactionLeaderLock(NpgsqlDataSource source, ILogger<TransactionLeaderLock> logger) : IAdvisoryLock
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    private readonly Dictionary<int, Held> _held = [];

    public bool HasLock(int lockId)
    {
        lock (_held)
        {
            return _held.TryGetValue(lockId, out var held) && !held.Lost;
        }
    }

    public async Task<bool> TryAttainLockAsync(int lockId, CancellationToken token)
    {
        Held? stale;
        lock (_held)
        {
            if (_held.TryGetValue(lockId, out var held) && !held.Lost)
            {
                return true;
            }

            _held.Remove(lockId, out stale);
        }

        if (stale is not null)
        {
            await stale.DisposeAsync();
        }

        var connection = await source.OpenConnectionAsync(token);
        try
        {
            var transaction = await connection.BeginTransactionAsync(token);
            await using var command = new NpgsqlCommand("select pg_try_advisory_xact_lock($1)", connection, transaction)
            {
                Parameters = { new NpgsqlParameter { Value = (long)lockId, NpgsqlDbType = NpgsqlDbType.Bigint } },
            };
            if (await command.ExecuteScalarAsync(token) is true)
            {
                var held = new Held(lockId, connection, transaction, logger);
                lock (_held)
                {
                    _held[lockId] = held;
                }

                return true;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        // Somebody else holds it: nothing kept open here.
        await connection.DisposeAsync();
        return false;
    }

    public async Task ReleaseLockAsync(int lockId)
    {
        Held? held;
        lock (_held)
        {
            _held.Remove(lockId, out held);
        }

        if (held is not null)
        {
            await held.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Held> all;
        lock (_held)
        {
            all = [.. _held.Values];
            _held.Clear();
        }

        foreach (var held in all)
        {
            await held.DisposeAsync();
        }
    }

    /// <summary>A held lock: its connection and transaction, and the loop that checks them.</summary>
    private sealed class Held : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _checking;
        private volatile bool _lost;

        public Held(int lockId, NpgsqlConnection connection, NpgsqlTransaction transaction, ILogger logger)
        {
            (_connection, _transaction) = (connection, transaction);
            _checking = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(CheckInterval);
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token))
                    {
                        await using var command = new NpgsqlCommand("select 1", _connection, _transaction);
                        await command.ExecuteScalarAsync(_stop.Token);
                    }
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    // released
                }
                catch (Exception e)
                {
                    _lost = true;
                    logger.LogWarning(e, "Lost the connection that held leader lock {LockId}; the projection stops on this node until it is taken again", lockId);
                }
            });
        }

        public bool Lost => _lost;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _checking;
            try
            {
                // Rolling back ends the lock; disposing returns the connection (or drops a broken one).
                if (!_lost)
                {
                    await _transaction.RollbackAsync();
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The session is gone, and the lock with it.
            }

            await _connection.DisposeAsync();
            _stop.Dispose();
        }
    }
}

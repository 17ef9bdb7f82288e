using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using JasperFx.MultiTenancy;
using Marten;
using Marten.Events.Daemon.HighWater;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Projections.Hosting;
using Weasel.Core;

namespace Projections.ReadModels;

/// <summary>
/// Marten for the service: the event store (one stream per entity, every event under its wire name and its envelope id),
/// the catalogue's projections run by the async daemon in blue/green slots, and the engine's services.
/// </summary>
public static class StoreSetup
{
    /// <summary>The key of the data source for sessions and long transactions: leader locks, wake-ups (see
    /// <see cref="DatabaseConnections"/>).</summary>
    public const string SessionSource = "sessions";

    /// <param name="builder">The application.</param>
    /// <param name="projections">The projections to run (<c>Catalogue.Projections</c>), made with the settings they need.</param>
    /// <param name="eventTypes">Every event type and the name it is stored under.</param>
    public static WebApplicationBuilder AddProjectionsStore(this WebApplicationBuilder builder,
        Func<WebApplicationBuilder, IReadOnlyList<IReadModelBuilder>> projections, IReadOnlyList<(Type ClrType, string Name)> eventTypes)
    {
        var settings = builder.AddSettings<ProjectionSettings>();
        var catalogue = new ProjectionCatalogue(projections(builder));
        builder.Services.AddSingleton(catalogue);
        var eventNames = eventTypes.ToDictionary(t => t.ClrType, t => t.Name);

        // For what holds a session or a long transaction (leader locks, wake-ups): the direct connection
        // when there is one, else the pooled one (DatabaseConnections).
        builder.Services.AddKeyedSingleton(SessionSource, (_, _) => NpgsqlDataSource.Create(DatabaseConnections.Direct(builder.Configuration)));

        // First of the hosted services: the role's defaults must be in place before Marten and the daemon connect.
        builder.Services.AddHostedService<SessionDefaults>();

        var marten = builder.Services.AddMarten(services =>
        {
            var opts = new StoreOptions();
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StoreSetup).FullName!);
            // Safe behind a transaction-mode pooler (DatabaseConnections): no startup parameters (the session settings the
            // service wants are its role's defaults, SessionDefaults, applied before anything connects), no reset on close.
            opts.Connection(DatabaseConnections.Pooled(builder.Configuration));
            opts.DatabaseSchemaName = MartenTables.Schema;
            opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
            opts.AutoCreateSchemaObjects = settings.ApplySchemaOnStartup ? AutoCreate.CreateOrUpdate : AutoCreate.None;
            // One queued operation per database command, so each has the command timeout to itself: a projection batch
            // queues a few bulk statements of at most Projections:RowsPerCommand documents each (BulkDocuments), and
            // Marten's default of 500 per command put a whole large batch's writes under one timeout.
            opts.UpdateBatchSize = 1;

            // One stream per entity, keyed "user:u-1", "product:p-9", ... (see EventContract).
            opts.Events.StreamIdentity = StreamIdentity.AsString;
            // Idempotency: every event is stored under its envelope id, which the database keeps unique.
            opts.Events.EnableUniqueIndexOnEventId = true;
            // Any advisory lock Marten takes itself is transaction-scoped (required with the DistributedLock.Postgres
            // stand-in, see README). The HotCold leader locks are the service's own (LeaderElection).
            opts.Events.UseAdvisoryLockTransaction = true;
            // Wake the daemon on append instead of waiting for its next poll (appends notify in MartenTables.AppendEvents).
            // LISTEN needs a session: on ConnectionStrings:PostgresDirect when set, for it may be a pooler's otherwise.
            if (DatabaseConnections.HasDirect(builder.Configuration))
            {
                opts.Projections.Wakeup = new PostgresqlListenWakeup(services.GetRequiredKeyedService<NpgsqlDataSource>(SessionSource),
                    services.GetRequiredService<ILogger<PostgresqlListenWakeup>>());
            }
            else if (DatabaseConnections.NotificationsArrive(DatabaseConnections.Pooled(builder.Configuration), TimeSpan.FromSeconds(1), logger))
            {
                opts.Events.UseListenNotifyForEventAppends = true;
            }
            else
            {
                logger.LogWarning(
                    "Notifications do not arrive through ConnectionStrings:Postgres (a transaction-mode pooler?): the daemon " +
                    "finds new events by polling. Set ConnectionStrings:PostgresDirect to a direct connection for immediate wake-ups.");
            }

            foreach (var (type, name) in eventTypes)
            {
                opts.Events.MapEventType(type, name);
            }

            opts.Events.MapEventType<RebuildRequested>(RebuildRequested.TypeName);
            opts.Events.MapEventType<RebuildTick>(RebuildTick.TypeName);
            opts.Events.MapEventType<ReplayRequested>(ReplayRequested.TypeName);

            // Blue/green: every projection document lives in one of two slots, stored as Marten tenants of its type.
            var slotted = catalogue.Projections.SelectMany(p => p.DocumentTypes).Append(typeof(SetAsideEvent)).ToHashSet();
            opts.Policies.ForAllDocuments(mapping =>
            {
                if (slotted.Contains(mapping.DocumentType))
                {
                    mapping.TenancyStyle = TenancyStyle.Conjoined;
                    // Entity states and buckets are rewritten batch after batch: room on each page lets the new row
                    // version stay on its page (a HOT update, no index entry), so the tables and their keys do not bloat.
                    mapping.StorageParameters["fillfactor"] = 80;
                }
            });

            foreach (var projection in catalogue.Projections)
            {
                opts.Projections.Add(new SlottedProjection(projection.Builder, projection.Shard, eventNames, settings.RebuildChunkSize, TimeProvider.System,
                        settings.RebuildBatchTime, (long)(settings.RebuildMemory * 1024 * 1024 / catalogue.Projections.Count), settings.RowsPerCommand),
                    ProjectionLifecycle.Async, projection.Name, o =>
                    {
                        o.BatchSize = settings.BatchSize;
                        // Marten's own (offline) rebuild empties both slots and replays into the active one.
                        foreach (var type in projection.DocumentTypes)
                        {
                            o.DeleteViewTypeOnTeardown(type);
                        }
                    });
            }

            // Room on mt_streams' pages for the version bumps of every append (StreamsFillFactor).
            opts.Storage.Add(new StreamsFillFactor.Feature(opts));

            opts.RegisterDocumentType<ProjectionSlots>();
            opts.RegisterDocumentType<SetAsideEvent>();
            return opts;
        }).UseLightweightSessions();

        if (settings.RunDaemon)
        {
            marten.AddAsyncDaemon(DaemonMode.HotCold);
            // Marten's coordinator loop with the service's leader lock (LeaderElection), on the direct connection when
            // there is one: a transaction that holds a lock is better kept off a pooler's small pool.
            builder.Services.Replace(ServiceDescriptor.Singleton<Marten.Events.Daemon.Coordination.IProjectionCoordinator, LeaderElection>());
        }


        if (settings.ApplySchemaOnStartup)
        {
            marten.ApplyAllDatabaseChangesOnStartup();
        }

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReadModelCache>();
        builder.Services.AddSingleton<ProjectionProgress>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionProgress>());
        builder.Services.AddHostedService<RebuildPump>();
        return builder;
    }
}

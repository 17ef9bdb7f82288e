using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using JasperFx.MultiTenancy;
using Marten;
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
    /// <summary>
    /// The PostgreSQL settings the service's own connections start with (the startup packet's <c>options</c>):
    /// <list type="bullet">
    /// <item><c>client_connection_check_interval</c> (PostgreSQL 14+): check, while a query runs, whether the client is
    /// still there. The HotCold leader holds its advisory lock on a connection that sits in a long <c>pg_sleep</c>;
    /// without the check, a leader killed with SIGKILL keeps the lock (and every other node waits) until that sleep
    /// ends.</item>
    /// <item>With <see cref="ProjectionSettings.TuneQueryPlanner"/>: <c>random_page_cost=1.1</c> and no parallel
    /// query. The daemon reads each batch of events joined to <c>mt_streams</c>. With the default costs PostgreSQL
    /// often answers that by hashing the whole streams table, with parallel workers, for every batch: a cost that grows
    /// with the number of entities and made catching up several times slower at two million events. The index
    /// lookups it skipped are in memory, where a random page costs about what a sequential one does.</item>
    /// </list>
    /// </summary>
    public static string WithSessionSettings(string connectionString, ProjectionSettings settings)
    {
        var options = new List<string>();
        if (settings.DeadClientCheckInterval > TimeSpan.Zero)
        {
            options.Add($"-c client_connection_check_interval={(int)settings.DeadClientCheckInterval.TotalMilliseconds}");
        }

        if (settings.TuneQueryPlanner)
        {
            options.Add("-c random_page_cost=1.1");
            options.Add("-c max_parallel_workers_per_gather=0");
        }

        if (options.Count == 0)
        {
            return connectionString;
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var option = string.Join(' ', options);
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? option : $"{builder.Options} {option}";
        return builder.ConnectionString;
    }

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

        var marten = builder.Services.AddMarten(services =>
        {
            var connectionString = builder.Configuration.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException(
                    "ConnectionStrings:Postgres is not set (e.g. the environment variable ConnectionStrings__Postgres).");
            var opts = new StoreOptions();
            opts.Connection(WithSessionSettings(connectionString, settings));
            opts.DatabaseSchemaName = MartenTables.Schema;
            opts.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
            opts.AutoCreateSchemaObjects = settings.ApplySchemaOnStartup ? AutoCreate.CreateOrUpdate : AutoCreate.None;

            // One stream per entity, keyed "user:u-1", "product:p-9", ... (see EventContract).
            opts.Events.StreamIdentity = StreamIdentity.AsString;
            // Idempotency: every event is stored under its envelope id, which the database keeps unique.
            opts.Events.EnableUniqueIndexOnEventId = true;
            // Required with the DistributedLock.Postgres stand-in for HotCold leader election (see README).
            opts.Events.UseAdvisoryLockTransaction = true;
            // Wake the daemon on append instead of waiting for its next poll.
            opts.Events.UseListenNotifyForEventAppends = true;
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
                opts.Projections.Add(new SlottedProjection(projection.Builder, projection.Shard, eventNames, settings.RebuildChunkSize, TimeProvider.System),
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

            opts.RegisterDocumentType<ProjectionSlots>();
            opts.RegisterDocumentType<SetAsideEvent>();
            return opts;
        }).UseLightweightSessions();

        if (settings.RunDaemon)
        {
            marten.AddAsyncDaemon(DaemonMode.HotCold);
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

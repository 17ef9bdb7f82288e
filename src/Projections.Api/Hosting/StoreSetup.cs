using System.Collections.Frozen;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using Projections.Analytics;
using Projections.Ingest;
using Projections.Inventory;
using Projections.Rebuilds;
using Projections.Users;
using JasperFx.MultiTenancy;
using Weasel.Core;

namespace Projections.Hosting;

/// <summary>The event store, every projection and its lifecycle, in one visible place.</summary>
public static class StoreSetup
{
    public const string SchemaName = "projections";

    /// <summary>Every projection, by name and the shard its progress is recorded under.</summary>
    public static readonly IReadOnlyList<(string Name, string Shard)> Projections =
    [
        (UserMetricsProjection.ProjectionName, UserMetricsProjection.ShardName),
        (InventoryMetricsProjection.ProjectionName, InventoryMetricsProjection.ShardName),
        (GalleryAnalyticsProjection.ProjectionName, GalleryAnalyticsProjection.ShardName),
    ];

    private static readonly FrozenDictionary<string, string> Shards = Projections.ToFrozenDictionary(p => p.Name, p => p.Shard);

    /// <summary>The shard a projection's progress is recorded under.</summary>
    public static string ShardOf(string projection) => Shards[projection];

    /// <summary>What each projection does with its events.</summary>
    private static IReadOnlyList<IReadModelBuilder> Builders(ProjectionSettings settings) =>
    [
        new UserMetricsProjection(),
        new InventoryMetricsProjection(settings.LowStockThreshold),
        new GalleryAnalyticsProjection(),
    ];

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

    public static WebApplicationBuilder AddProjectionsStore(this WebApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(ProjectionSettings.Section).Get<ProjectionSettings>() ?? new ProjectionSettings();
        builder.Services.Configure<ProjectionSettings>(builder.Configuration.GetSection(ProjectionSettings.Section));

        var marten = builder.Services.AddMarten(services =>
        {
            var connectionString = builder.Configuration.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException(
                    "ConnectionStrings:Postgres is not set (e.g. the environment variable ConnectionStrings__Postgres).");
            var opts = new StoreOptions();
            opts.Connection(WithSessionSettings(connectionString, settings));
            opts.DatabaseSchemaName = SchemaName;
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
            foreach (var type in EventContract.Types)
            {
                opts.Events.MapEventType(type.ClrType, type.Name);
            }

            opts.Events.MapEventType<RebuildRequested>(RebuildRequested.TypeName);
            opts.Events.MapEventType<RebuildTick>(RebuildTick.TypeName);
            opts.Events.MapEventType<ReplayRequested>(ReplayRequested.TypeName);

            var clock = TimeProvider.System;
            var builders = Builders(settings);
            // Blue/green: every projection document lives in one of two slots, stored as Marten tenants of its type.
            var slotted = builders.SelectMany(b => b.DocumentTypes).Append(typeof(SetAsideEvent)).ToHashSet();
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

            foreach (var builder in builders)
            {
                opts.Projections.Add(new SlottedProjection(builder, settings.RebuildChunkSize, clock), ProjectionLifecycle.Async, builder.Name, o =>
                {
                    o.BatchSize = settings.BatchSize;
                    // Marten's own (offline) rebuild empties both slots and replays into the active one.
                    foreach (var type in builder.DocumentTypes)
                    {
                        o.DeleteViewTypeOnTeardown(type);
                    }
                });
            }

            opts.RegisterDocumentType<ProjectionSlots>();
            opts.RegisterDocumentType<SetAsideEvent>();
            opts.RegisterDocumentType<Operations.ProjectionFault>();
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

        builder.Services.AddOptions<AnalyticsSettings>().Bind(builder.Configuration.GetSection(AnalyticsSettings.Section))
            .Validate(s => s.GalleryCommissionRate is >= 0m and <= 1m, "Analytics:GalleryCommissionRate must be between 0 and 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReadModelCache>();
        builder.Services.Configure<ResilienceSettings>(builder.Configuration.GetSection(ResilienceSettings.Section));
        builder.Services.AddSingleton<DatabaseResilience>();
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        builder.Services.AddSingleton<ProjectionProgress>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionProgress>());
        builder.Services.AddHostedService<RebuildPump>();
        builder.Services.AddSingleton<EventIngestor>();
        builder.Services.AddSingleton<Operations.ProjectionStatus>();
        builder.Services.AddHostedService<Operations.ProjectionFaults>();
        return builder;
    }
}

using JasperFx;
using Projections.Hosting;
using Projections.ReadModels;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Postgresql;
using Wolverine.Runtime;
using Wolverine.RabbitMQ;

namespace Projections.Ingest;

/// <summary>The <c>Queue</c> configuration section: ingest from a Wolverine queue beside <c>POST /api/events</c>.</summary>
public sealed class QueueSettings : ISettings
{
    public static string Section => "Queue";

    /// <summary>Receive <see cref="PublishEvents"/> messages from the queue. Off by default: with it on, the service
    /// needs its database to start (Wolverine registers the node at startup), where it otherwise starts without one and
    /// reports not ready.</summary>
    public bool Enabled { get; set; }

    /// <summary>The queue publishers send to.</summary>
    public string Name { get; set; } = "projections-events";

    /// <summary><c>postgresql</c> (a queue table in the service's own database) or <c>rabbitmq</c>.</summary>
    public string Transport { get; set; } = PostgresqlTransport;

    /// <summary>The broker when <see cref="Transport"/> is <c>rabbitmq</c>, e.g. <c>amqp://user:password@host:5672/vhost</c>.</summary>
    public string? RabbitMqUri { get; set; }

    public const string PostgresqlTransport = "postgresql";
    public const string RabbitMqTransport = "rabbitmq";

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            yield return "Queue:Name must not be empty.";
        }

        switch (Transport.ToLowerInvariant())
        {
            case PostgresqlTransport:
                break;
            case RabbitMqTransport when !Uri.TryCreate(RabbitMqUri, UriKind.Absolute, out _):
                yield return "Queue:RabbitMqUri (an amqp:// URL) is required when Queue:Transport is rabbitmq.";
                break;
            case RabbitMqTransport:
                break;
            default:
                yield return $"Queue:Transport must be '{PostgresqlTransport}' or '{RabbitMqTransport}', not '{Transport}'.";
                break;
        }
    }
}

/// <summary>
/// Ingest's services: the idempotent append behind <c>POST /api/events</c>, and Wolverine, for one job: receive
/// <see cref="PublishEvents"/> from a queue and ingest it like <c>POST /api/events</c>. Wolverine's inbox, dead letters
/// and (with the PostgreSQL transport) the queue table live in their own schema of the service's database. Marten is
/// set up on its own in <see cref="StoreSetup"/>: Wolverine does not take over the async daemon.
/// </summary>
public static class IngestSetup
{
    public const string QueueSchemaName = "projections_wolverine";

    public static WebApplicationBuilder AddProjectionsIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EventIngestor>();
        IngestConcurrency.Add(builder);
        var settings = builder.AddSettings<QueueSettings>();
        if (!settings.Enabled)
        {
            return builder;
        }

        var projections = builder.AddSettings<ProjectionSettings>();
        // Wolverine elects its leader with session advisory locks and listens for queue inserts: it needs sessions, so it
        // takes the direct connection when one is given (DatabaseConnections).
        var connectionString = DatabaseConnections.Direct(builder.Configuration);

        builder.Services.AddWolverine(opts =>
        {
            // Only the queue's handler: nothing else in this assembly is a Wolverine handler.
            opts.Discovery.DisableConventionalDiscovery().IncludeType(typeof(PublishEventsHandler));
            // Wolverine 6 compiles its generated handler code with Roslyn at run time only when asked to.
            opts.UseRuntimeCompilation();
            opts.AutoBuildMessageStorageOnStartup = projections.ApplySchemaOnStartup ? AutoCreate.CreateOrUpdate : AutoCreate.None;

            if (settings.Transport.Equals(QueueSettings.RabbitMqTransport, StringComparison.OrdinalIgnoreCase))
            {
                // The inbox and the dead letters stay in PostgreSQL, as with the PostgreSQL transport.
                opts.PersistMessagesWithPostgresql(connectionString, QueueSchemaName);
                opts.UseRabbitMq(new Uri(settings.RabbitMqUri!)).AutoProvision().DisableDeadLetterQueueing()
                    // A message counts as sent only once the broker confirms it has it (persistent, in a durable queue: on
                    // disk). Without confirms a send is done once written to the socket and the outbox forgets it, so what
                    // the broker never read was lost: the last messages before it stopped, all of them while it hung.
                    .ConfigureChannelCreation(channels =>
                    {
                        channels.PublisherConfirmationsEnabled = true;
                        channels.PublisherConfirmationTrackingEnabled = true;
                    });
                // A message is acknowledged to the broker once it is in the inbox (PostgreSQL): what a restarted broker
                // delivers again is new to the inbox or dropped there as a copy (and the append ignores stored events).
                opts.ListenToRabbitQueue(settings.Name).ListenWithStrictOrdering().UseDurableInbox();
                // So that a PublishEvents sent inside this service travels through the broker too, from the outbox:
                // persistent, and kept until the broker confirms it. (Listening and sending share the queue's endpoint,
                // which the durable inbox makes durable already; said here, the sends do not depend on it.)
                opts.PublishMessage<PublishEvents>().ToRabbitQueue(settings.Name).UseDurableOutbox();
            }
            else
            {
                opts.UsePostgresqlPersistenceAndTransport(connectionString, QueueSchemaName, transportSchema: QueueSchemaName)
                    // Messages sent together get the same timestamp; keep them in the order they were sent.
                    .EnableDeterministicQueueOrdering()
                    // Wake the listener on insert instead of waiting for its next poll.
                    .EnableQueueNotifications();
                // One node at a time, one message at a time: per entity, events are stored in the order they were
                // sent (the contract's rule for publishers), as when a publisher waits for each 202.
                opts.ListenToPostgresqlQueue(settings.Name).ListenWithStrictOrdering();
                // So that a PublishEvents sent inside this service travels through the queue too.
                opts.PublishMessage<PublishEvents>().ToPostgresqlQueue(settings.Name);
            }

            // A batch that is not valid never will be: straight to the dead letters, with the reason.
            opts.Policies.OnException<InvalidEnvelopesException>().MoveToErrorQueue();
            // While the database is away, retry the same message in place rather than reschedule it: per entity, events
            // must be stored in the order they were published, so nothing behind it may overtake it.
            opts.Policies.OnException(IsTransient, "database unavailable or a concurrent append")
                .RetryWithCooldown(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1),
                    TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5))
                .Then.CustomActionIndefinitely(RetryAfterPauseAsync, "retry in place every 10 s");
        });
        return builder;
    }

    private static bool IsTransient(Exception e) => DatabaseResilience.IsUnavailable(e) || e is IngestContentionException;

    private static async ValueTask RetryAfterPauseAsync(IWolverineRuntime runtime, IEnvelopeLifecycle lifecycle, Exception _)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10), runtime.Cancellation);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: leave the message in the inbox, where the next node to listen picks it up.
            return;
        }

        await lifecycle.RetryExecutionNowAsync();
    }
}

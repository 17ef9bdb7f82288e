using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Projections.Hosting;

/// <summary>The <c>Resilience</c> configuration section: how reads and ingests treat an unreachable database.</summary>
public sealed class ResilienceSettings : ISettings
{
    public static string Section => "Resilience";

    /// <summary>The longest a read or an ingest waits on the database, retries included, before answering 503.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries of a transient database failure (with exponential, jittered backoff from 100 ms).</summary>
    public int Retries { get; set; } = 2;

    /// <summary>How long the circuit stays open (answering 503 at once) after most recent calls failed.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>Retry-After</c> sent with a 503 while the database is unavailable.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (Timeout <= TimeSpan.Zero || BreakDuration <= TimeSpan.Zero)
        {
            yield return "Resilience:Timeout and Resilience:BreakDuration must be longer than zero.";
        }

        if (Retries < 0 || RetryAfterSeconds < 0)
        {
            yield return "Resilience:Retries and Resilience:RetryAfterSeconds must not be negative.";
        }
    }
}

/// <summary>How the service treats an unreachable database, registered once for every path that needs it.</summary>
public static class ResilienceSetup
{
    public static WebApplicationBuilder AddProjectionsResilience(this WebApplicationBuilder builder)
    {
        builder.AddSettings<ResilienceSettings>();
        builder.Services.AddSingleton<DatabaseResilience>();
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        return builder;
    }
}

/// <summary>
/// Polly for the read and ingest paths: a transient database failure is retried briefly; a database that stays away
/// opens the circuit, so callers get 503 at once instead of each waiting for a connection timeout; and nothing waits
/// longer than <see cref="ResilienceSettings.Timeout"/>. The circuit closes again by itself once a trial call succeeds.
/// </summary>
public sealed class DatabaseResilience
{
    public DatabaseResilience(IOptions<ResilienceSettings> options)
    {
        var settings = options.Value;
        Pipeline = new ResiliencePipelineBuilder()
            .AddTimeout(settings.Timeout)
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsUnavailable),
                FailureRatio = 0.8,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(5),
                BreakDuration = settings.BreakDuration,
            })
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsUnavailable),
                MaxRetryAttempts = Math.Max(0, settings.Retries),
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .Build();
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Whether the exception (or one inside it) means the database cannot be reached or is shutting down.</summary>
    public static bool IsUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p:
                    // Server going away (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now), or too many clients.
                    return p.SqlState is "57P01" or "57P02" or "57P03" or "53300" || p.IsTransient;
                case NpgsqlException n when n.IsTransient || n.InnerException is SocketException or IOException or TimeoutException:
                case SocketException or TimeoutRejectedException or BrokenCircuitException or DatabaseUnavailableException:
                    return true;
            }
        }

        return false;
    }
}

/// <summary>The database went away while a request used it, met as an exception that does not say so by itself (a
/// connection or transaction that Npgsql has already closed).</summary>
public sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Answers 503 with <c>Retry-After</c> (problem+json) for any request that failed because the database is
/// unavailable, instead of 500.</summary>
public sealed class DatabaseUnavailableHandler(IOptions<ResilienceSettings> settings, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!DatabaseResilience.IsUnavailable(exception) || context.Response.HasStarted)
        {
            return false;
        }

        logger.LogWarning("Database unavailable for {Method} {Path}: {Error}", context.Request.Method, context.Request.Path, exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = settings.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.Write(context, StatusCodes.Status503ServiceUnavailable, "Database unavailable",
            "The database cannot be reached right now; nothing was changed. Retry after the time in Retry-After.");
        return true;
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Projections.Hosting;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetrySettings : ISettings
{
    public static string Section => "Telemetry";

    /// <summary>Serve metrics in the Prometheus text format at <see cref="PrometheusPath"/>, to a bearer token with role
    /// <c>admin</c> or <c>service</c> (a scrape config carries it).</summary>
    public bool Prometheus { get; set; } = true;

    public string PrometheusPath { get; set; } = "/prometheus";

    /// <summary>Export metrics and traces over OTLP to this endpoint (also taken from <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).
    /// Traces are only collected when an endpoint is set.</summary>
    public string? OtlpEndpoint { get; set; }

    public IEnumerable<string> Problems(IHostEnvironment environment)
    {
        if (!PrometheusPath.StartsWith('/'))
        {
            yield return $"Telemetry:PrometheusPath must start with '/', not '{PrometheusPath}'.";
        }

        if (OtlpEndpoint is { Length: > 0 } endpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            yield return $"Telemetry:OtlpEndpoint must be an absolute URL, not '{endpoint}'.";
        }
    }
}

/// <summary>
/// The service's own instruments (meter and activity source <c>Projections</c>): events ingested, read latency by read
/// model and outcome, and projection progress and lag (reported by the projection engine, ReadModels/); plus
/// ASP.NET Core's and Marten's. Exported over OTLP when configured, and scraped by Prometheus.
/// </summary>
public static class Telemetry
{
    public const string Name = "Projections";

    public static readonly ActivitySource Source = new(Name);

    public static WebApplicationBuilder AddProjectionsTelemetry(this WebApplicationBuilder builder)
    {
        var settings = builder.AddSettings<TelemetrySettings>();
        var otlp = settings.OtlpEndpoint ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Name))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Name, "Marten", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
                if (settings.Prometheus)
                {
                    metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlp));
                }
            });

        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(Name, "Marten")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddOtlpExporter(o => o.Endpoint = new Uri(otlp)));
        }

        builder.Services.AddSingleton<ProjectionsMetrics>();
        return builder;
    }

    /// <param name="app">The application.</param>
    /// <param name="policy">Who may scrape: counts, routes and lag are figures, so nothing anonymous shows them.</param>
    public static WebApplication MapTelemetry(this WebApplication app, string policy)
    {
        var settings = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetrySettings>>().Value;
        if (settings.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(settings.PrometheusPath).RequireAuthorization(policy);
        }

        return app;
    }
}

/// <summary>Why ingest refused a batch, as <c>projections.ingest.refused</c> labels it.</summary>
public static class RefusalReason
{
    public const string Lag = "lag";
    public const string Concurrency = "concurrency";
    public const string Contention = "contention";
}

/// <summary>
/// The service's instruments, on a meter from this host's <see cref="IMeterFactory"/> (so that several hosts in one
/// process, as in the tests, each count their own): events ingested and read latency.
/// </summary>
public sealed class ProjectionsMetrics
{
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _refused;
    private readonly Histogram<double> _readDuration;

    public ProjectionsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.Name);
        _accepted = meter.CreateCounter<long>("projections.ingest.events", "{event}", "Events stored by ingest (duplicates excluded).");
        _duplicates = meter.CreateCounter<long>("projections.ingest.duplicates", "{event}", "Events skipped by ingest because their id was already stored.");
        _refused = meter.CreateCounter<long>("projections.ingest.refused", "{batch}",
            "Batches ingest answered 503 with Retry-After, nothing stored, by reason (lag: the projections further behind than " +
            "Ingest:MaxProjectionLag; concurrency: more batches at once than Ingest:MaxConcurrentBatches and Ingest:MaxQueuedBatches; " +
            "contention: the append could not get its turn in the database).");
        _readDuration = meter.CreateHistogram<double>("projections.read.duration", "ms",
            "Time to answer a read endpoint, by read model and outcome (hit: cached bytes; miss: rendered from documents; not_modified: 304).");
    }

    public void Ingested(int accepted, int duplicates)
    {
        _accepted.Add(accepted);
        _duplicates.Add(duplicates);
    }

    /// <summary>A batch refused for <paramref name="reason"/> (see <see cref="RefusalReason"/>): the publisher sends it again.</summary>
    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Read(string readModel, string outcome, TimeSpan took)
    {
        if (_readDuration.Enabled)
        {
            _readDuration.Record(took.TotalMilliseconds,
                new KeyValuePair<string, object?>("read_model", readModel), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public bool ReadsObserved => _readDuration.Enabled;
}

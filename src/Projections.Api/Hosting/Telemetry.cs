using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using JasperFx.Events.Projections;

namespace Projections.Hosting;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetrySettings
{
    public const string Section = "Telemetry";

    /// <summary>Serve metrics in the Prometheus text format at <see cref="PrometheusPath"/>, to a bearer token with role
    /// <c>admin</c> or <c>service</c> (a scrape config carries it).</summary>
    public bool Prometheus { get; set; } = true;

    public string PrometheusPath { get; set; } = "/prometheus";

    /// <summary>Export metrics and traces over OTLP to this endpoint (also taken from <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).
    /// Traces are only collected when an endpoint is set.</summary>
    public string? OtlpEndpoint { get; set; }
}

/// <summary>
/// The service's own instruments (meter and activity source <c>Projections</c>): events ingested, projection progress and
/// lag, and read latency by read model and outcome; plus ASP.NET Core's and Marten's. Exported over OTLP when configured,
/// and scraped by Prometheus.
/// </summary>
public static class Telemetry
{
    public const string Name = "Projections";

    public static readonly ActivitySource Source = new(Name);

    public static WebApplicationBuilder AddProjectionsTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TelemetrySettings.Section);
        var settings = section.Get<TelemetrySettings>() ?? new TelemetrySettings();
        builder.Services.Configure<TelemetrySettings>(section);
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
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ProjectionsMetrics>());
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        var settings = app.Configuration.GetSection(TelemetrySettings.Section).Get<TelemetrySettings>() ?? new TelemetrySettings();
        if (settings.Prometheus)
        {
            // Counts, routes and lag are figures: nothing anonymous shows them.
            app.MapPrometheusScrapingEndpoint(settings.PrometheusPath).RequireAuthorization(Auth.AuthSetup.ReadTelemetry);
        }

        return app;
    }
}

/// <summary>
/// The service's instruments, on a meter from this host's <see cref="IMeterFactory"/> (so that several hosts in one
/// process, as in the tests, each count their own): events ingested, read latency, and projection progress as gauges
/// from what <see cref="ProjectionProgress"/> last saw.
/// </summary>
public sealed class ProjectionsMetrics : IHostedService
{
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _readDuration;

    public ProjectionsMetrics(IMeterFactory meters, ProjectionProgress progress)
    {
        var meter = meters.Create(Telemetry.Name);
        _accepted = meter.CreateCounter<long>("projections.ingest.events", "{event}", "Events stored by ingest (duplicates excluded).");
        _duplicates = meter.CreateCounter<long>("projections.ingest.duplicates", "{event}", "Events skipped by ingest because their id was already stored.");
        _readDuration = meter.CreateHistogram<double>("projections.read.duration", "ms",
            "Time to answer a read endpoint, by read model and outcome (hit: cached bytes; miss: rendered from documents; not_modified: 304).");
        meter.CreateObservableGauge("projections.high_water_mark", () => progress.Of(ShardState.HighWaterMark),
            "{sequence}", "The highest event sequence the daemon may process.");
        meter.CreateObservableGauge("projections.sequence", () => Each(shard => progress.Of(shard)),
            "{sequence}", "The event sequence each projection has processed through.");
        meter.CreateObservableGauge("projections.lag.events", () => Each(shard => Math.Max(0, progress.Of(ShardState.HighWaterMark) - progress.Of(shard))),
            "{event}", "Events up to the high-water mark each projection has not processed yet.");
    }

    public void Ingested(int accepted, int duplicates)
    {
        _accepted.Add(accepted);
        _duplicates.Add(duplicates);
    }

    public void Read(string readModel, string outcome, TimeSpan took)
    {
        if (_readDuration.Enabled)
        {
            _readDuration.Record(took.TotalMilliseconds,
                new KeyValuePair<string, object?>("read_model", readModel), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public bool ReadsObserved => _readDuration.Enabled;

    // Resolved at startup so the gauges exist before the first scrape.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static IEnumerable<Measurement<long>> Each(Func<string, long> value) =>
        StoreSetup.Projections.Select(p => new Measurement<long>(value(p.Shard), new KeyValuePair<string, object?>("projection", p.Name)));
}

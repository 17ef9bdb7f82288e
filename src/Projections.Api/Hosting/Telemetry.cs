using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Projections.Hosting;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetrySettings
{
    public const string Section = "Telemetry";

    /// <summary>Serve metrics in the Prometheus text format at <see cref="PrometheusPath"/> (anonymous, like the probes).</summary>
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
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> EventsAccepted =
        Meter.CreateCounter<long>("projections.ingest.events", "{event}", "Events stored by POST /api/events (duplicates excluded).");

    public static readonly Counter<long> EventsDuplicate =
        Meter.CreateCounter<long>("projections.ingest.duplicates", "{event}", "Events skipped by POST /api/events because their id was already stored.");

    public static readonly Histogram<double> ReadDuration = Meter.CreateHistogram<double>("projections.read.duration", "ms",
        "Time to answer a read endpoint, by read model and outcome (hit: cached bytes; miss: rendered from documents; not_modified: 304).");

    public static WebApplicationBuilder AddProjectionsTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TelemetrySettings.Section);
        var settings = section.Get<TelemetrySettings>() ?? new TelemetrySettings();
        builder.Services.Configure<TelemetrySettings>(section);
        var otlp = settings.OtlpEndpoint ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];

        // This host's progress gauges are on a meter of its own, named like every host's; several hosts in one process
        // (the tests) must each export only their own, or one host stopping ends the same-named gauges of the others.
        var gaugeScope = new ProgressGaugeScope();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Name))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Name, "Marten", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel");
                metrics.AddView(instrument => instrument.Meter.Scope is ProgressGaugeScope scope && scope != gaugeScope
                    ? MetricStreamConfiguration.Drop
                    : null);
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

        builder.Services.AddHostedService(sp => new ProgressGauges(sp.GetRequiredService<ProjectionProgress>(), gaugeScope));
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        var settings = app.Configuration.GetSection(TelemetrySettings.Section).Get<TelemetrySettings>() ?? new TelemetrySettings();
        if (settings.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint(settings.PrometheusPath).AllowAnonymous();
        }

        return app;
    }

    /// <summary>Projection progress as observable gauges, from what <see cref="ProjectionProgress"/> last saw; on a meter
    /// of this host's own, removed when the host stops.</summary>
    private sealed class ProgressGauges(ProjectionProgress progress, ProgressGaugeScope scope) : IHostedService
    {
        private Meter? _meter;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            var meter = _meter = new Meter(new MeterOptions(Name) { Scope = scope });
            meter.CreateObservableGauge("projections.high_water_mark", () => progress.Of(JasperFx.Events.Projections.ShardState.HighWaterMark),
                "{sequence}", "The highest event sequence the daemon may process.");
            meter.CreateObservableGauge("projections.sequence", () => Each(shard => progress.Of(shard)),
                "{sequence}", "The event sequence each projection has processed through.");
            meter.CreateObservableGauge("projections.lag.events", () => Each(shard =>
                    Math.Max(0, progress.Of(JasperFx.Events.Projections.ShardState.HighWaterMark) - progress.Of(shard))),
                "{event}", "Events up to the high-water mark each projection has not processed yet.");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            _meter?.Dispose();
            return Task.CompletedTask;
        }

        private static IEnumerable<Measurement<long>> Each(Func<string, long> value) =>
            StoreSetup.Projections.Select(p => new Measurement<long>(value(p.Shard), new KeyValuePair<string, object?>("projection", p.Name)));
    }

    /// <summary>Marks the meter of one host's progress gauges (see <see cref="ProgressGauges"/>).</summary>
    private sealed class ProgressGaugeScope;
}

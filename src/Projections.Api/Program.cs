using JasperFx;
using Projections;
using Projections.Analytics;
using Projections.Auth;
using Projections.Benchmark;
using Projections.Hosting;
using Projections.Ingest;
using Projections.Metrics;
using Projections.OpenApi;
using Projections.OperatorConsole;
using Projections.Operations;
using Projections.ReadModels;

// The operator's command line talks to a running service over HTTP: it needs none of the host's command discovery.
if (OperatorCommand.Handles(args))
{
    return await OperatorCommand.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddProjectionsAuth();
builder.AddProjectionsResilience();
builder.AddProjectionsTelemetry();
builder.AddProjectionsStore(Catalogue.Projections, Catalogue.EventTypes);
builder.AddProjectionsIngest();
builder.AddProjectionsAnalytics();
builder.AddProjectionsReads();
builder.AddProjectionsOperations();
builder.Services.AddProblemDetails();
builder.AddProjectionsOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();
// After authorization: only a caller allowed to publish takes a place in ingest's limit (IngestConcurrency).
app.UseRateLimiter();

app.MapOpenApi().AllowAnonymous();
app.MapApiReference();
app.MapHealth();
app.MapTelemetry(AuthSetup.ReadTelemetry);
app.MapIngest();
app.MapMetrics();
app.MapAnalytics();
app.MapOperations();
app.MapRebuilds();
app.MapDeadLetters();
app.MapConsole();
app.MapBenchmark(app.Configuration);

return await app.RunJasperFxCommands(args);

/// <summary>The web application's entry point, visible to the integration tests' host.</summary>
public partial class Program;

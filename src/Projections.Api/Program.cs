using JasperFx;
using Projections.Analytics;
using Projections.Auth;
using Projections.Benchmark;
using Projections.Hosting;
using Projections.Ingest;
using Projections.Metrics;
using Projections.Operations;
using Projections.Rebuilds;

var builder = WebApplication.CreateBuilder(args);
builder.AddProjectionsAuth();
builder.AddProjectionsStore();
builder.AddProjectionsQueue();
builder.AddProjectionsHealth();
builder.AddProjectionsTelemetry();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi().AllowAnonymous();
app.MapHealth();
app.MapTelemetry();
app.MapIngest();
app.MapMetrics();
app.MapAnalytics();
app.MapOperations();
app.MapRebuilds();
app.MapDeadLetters();
app.MapBenchmark(app.Configuration);

return await app.RunJasperFxCommands(args);

/// <summary>The web application's entry point, visible to the integration tests' host.</summary>
public partial class Program;

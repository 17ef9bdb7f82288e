using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Operations;

/// <summary>
/// The readiness probe is anonymous, so anyone can call it as often as they like: 256 connections asking at once must
/// not take the database from the work. The service runs as its own process, probed over real sockets, while a
/// publisher sends batches that must keep being accepted.
/// </summary>
public sealed class ReadinessProbeLoadTests
{
    [Fact]
    public async Task Ingest_keeps_answering_202_while_256_connections_hammer_the_readiness_probe()
    {
        var database = await ServiceProcess.CreateDatabaseAsync("probes");
        await using var service = await ServiceProcess.StartAsync(database);
        using var probes = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 })
        {
            BaseAddress = service.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30),
        };

        using var stop = new CancellationTokenSource();
        var answers = new int[600];
        var hammering = Enumerable.Range(0, 256).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await probes.GetAsync("/health/ready", CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                Interlocked.Increment(ref answers[(int)response.StatusCode]);
                // One plain line; no figure, sequence or error text for an anonymous caller.
                Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
                Assert.False(body.Any(char.IsAsciiDigit), body);
                Assert.Single(body.TrimEnd('\n').Split('\n'));
            }
        })).ToList();

        var publishes = new List<(HttpStatusCode Status, TimeSpan Took)>();
        var clock = Stopwatch.StartNew();
        for (var batch = 0; clock.Elapsed < TimeSpan.FromSeconds(8); batch++)
        {
            var events = new JsonArray(Enumerable.Range(0, 50).Select(i => (JsonNode)Envelopes.Of("user.registered",
                new() { ["userId"] = $"u-{batch}-{i}", ["role"] = "customer" })).ToArray());
            using var content = new StringContent(events.ToJsonString(), Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = content };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Service);
            var started = clock.Elapsed;
            using var response = await service.Client.SendAsync(request);
            publishes.Add((response.StatusCode, clock.Elapsed - started));
        }

        await stop.CancelAsync();
        await Task.WhenAll(hammering);

        Assert.All(publishes, p => Assert.Equal(HttpStatusCode.Accepted, p.Status));
        Assert.True(publishes.Count >= 20, $"only {publishes.Count} batches were published in 8 s");
        Assert.True(answers[200] > 1000, $"the probes got {answers[200]} answers of 200 and {answers[503]} of 503");
        Assert.Equal(answers.Sum(), answers[200] + answers[503]);
    }
}

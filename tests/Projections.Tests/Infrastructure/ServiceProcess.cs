using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Projections.Ingest;

namespace Projections.Tests.Infrastructure;

/// <summary>
/// The built service as a real process (<c>dotnet Projections.Api.dll</c>), for tests that kill it, run several of it,
/// or take its database away. Each test gives its processes a database of their own in the test cluster.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public HttpClient Client { get; }

    /// <summary>What the process wrote so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServiceProcess> StartAsync(string connectionString, int? port = null, IDictionary<string, string>? settings = null)
    {
        port ??= FreePort();
        var info = new ProcessStartInfo("dotnet", ["Projections.Api.dll", "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = ApiDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["ConnectionStrings__Postgres"] = connectionString,
            ["Auth__SigningKey"] = TestTokens.SigningKey,
            ["Auth__Issuer"] = TestTokens.Issuer,
            ["Auth__Audience"] = TestTokens.Audience,
            ["Projections__BatchSize"] = "200",
            ["Projections__MinSequenceTimeout"] = "00:00:30",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__Marten"] = "Information",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var service = new ServiceProcess(process, port.Value);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {process.ExitCode}:\n{service.Output}");
            }

            try
            {
                using var live = await service.Client.GetAsync("/health/live", timeout.Token);
                if (live.IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>SIGKILL: no shutdown, no flushing, connections dropped.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// POSTs a batch until it is answered 202, as an at-least-once publisher does: connection failures and 503 are
    /// retried (after Retry-After when given); any other answer fails the test. Returns the receipt and the statuses seen.
    /// </summary>
    public static async Task<(IngestReceipt Receipt, List<HttpStatusCode> Statuses)> PublishUntilAcceptedAsync(
        Func<HttpClient> client, IReadOnlyList<JsonObject> batch, TimeSpan? within = null)
    {
        var body = new JsonArray(batch.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString();
        var statuses = new List<HttpStatusCode>();
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Service);
                using var response = await client().SendAsync(request, timeout.Token);
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    return (JsonSerializer.Deserialize<IngestReceipt>(await response.Content.ReadAsStringAsync(), JsonSerializerOptions.Web)!, statuses);
                }

                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    throw new InvalidOperationException($"POST /api/events answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                Assert.NotNull(response.Headers.RetryAfter);
            }
            catch (HttpRequestException)
            {
                // The service is down or restarting: send the same batch again.
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>GETs a read endpoint as admin, waiting (min_sequence) until it has processed through <paramref name="sequence"/>.</summary>
    public async Task<JsonElement> ReadAsync(string url, long sequence)
    {
        var separator = url.Contains('?') ? '&' : '?';
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}{separator}min_sequence={sequence}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Admin);
        HttpResponseMessage response;
        try
        {
            response = await Client.SendAsync(request);
        }
        catch (TaskCanceledException e)
        {
            throw new TimeoutException($"{url} did not answer in {Client.Timeout}\n--- service output ---\n{Output}", e);
        }

        using var _ = response;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}: {body}\n--- service output ---\n{Output}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A new, empty database in the test cluster; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"create database {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AppFixture.ConnectionString) { Database = name }.ConnectionString;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The service's build output, beside this test assembly's configuration (ops/test builds Release).</summary>
    private static string ApiDirectory
    {
        get
        {
            var configuration = typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Projections.sln")))
            {
                directory = directory.Parent;
            }

            var api = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Projections.sln not found above the tests"),
                "src", "Projections.Api", "bin", configuration, "net10.0");
            return File.Exists(Path.Combine(api, "Projections.Api.dll")) ? api : throw new InvalidOperationException($"Build the service first: {api}");
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Client.Dispose();
    }
}

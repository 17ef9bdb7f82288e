using Projections.Hosting;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using JasperFx.CommandLine;
using Projections.Auth;

namespace Projections.Sample;

public sealed class PublishSampleInput : NetCoreInput
{
    [Description("Base URL of a running service")]
    public string UrlFlag { get; set; } = "http://127.0.0.1:5080";

    [Description("Envelopes per request")]
    public int BatchFlag { get; set; } = 250;
}

/// <summary>Publishes <see cref="SampleData"/> through <c>POST /api/events</c> with a service token, as a shop service would.</summary>
[Description("Publish the deterministic sample data set to a running service through its ingest API", Name = "publish-sample")]
public sealed class PublishSampleCommand : JasperFxAsyncCommand<PublishSampleInput>
{
    public override async Task<bool> Execute(PublishSampleInput input)
    {
        using var host = input.BuildHost();
        var options = SettingsSetup.Read<AuthSettings>(host.Services.GetRequiredService<IConfiguration>());
        using var http = new HttpClient { BaseAddress = new Uri(input.UrlFlag) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevTokens.Mint(options, Caller.Service, subject: "sample-publisher"));

        var envelopes = SampleData.Envelopes();
        string? last = null;
        foreach (var chunk in envelopes.Chunk(input.BatchFlag))
        {
            var body = new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString();
            using var response = await http.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
            last = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"Publishing failed: {(int)response.StatusCode} {last}");
                return false;
            }
        }

        Console.WriteLine($"Published {envelopes.Count} sample events; last receipt: {last}");
        return true;
    }
}

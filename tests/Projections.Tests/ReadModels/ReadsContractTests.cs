using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Projections.ReadModels;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.ReadModels;

/// <summary>
/// What every read route offers browsers and tools (shared/contract/reads.md): Last-Modified and If-Modified-Since,
/// live updates as Server-Sent Events, CORS for the configured origins.
/// </summary>
public sealed class ReadsContractTests(AppFixture app) : AppTest(app)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static TheoryData<string> Routes => new()
    {
        "/metrics/admin-dashboard", "/metrics/staff-dashboard", "/metrics/inventory?active_only=false",
        "/api/admin/analytics?start_date=2024-03-01&end_date=2024-03-31",
    };

    private static JsonObject Customer(string id) =>
        Envelopes.Of("user.registered", new JsonObject { ["userId"] = id, ["role"] = "customer" });

    private async Task<HttpResponseMessage> GetAsync(string url, Action<HttpRequestMessage>? configure = null, string? token = null)
    {
        using var client = App.Host.Server.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", token ?? TestTokens.Admin);
        configure?.Invoke(request);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Last_modified_is_when_the_figures_changed_and_if_modified_since_never_hides_a_change()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var first = await App.PublishAsync([Customer("u-1")]);
        var read = await GetAsync($"/metrics/staff-dashboard?min_sequence={first.LastSequence}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var modified = read.Content.Headers.LastModified ?? throw new Xunit.Sdk.XunitException("no Last-Modified");
        Assert.InRange(modified, before, DateTimeOffset.UtcNow);
        Assert.Equal(modified.ToString("R"), read.Content.Headers.GetValues("Last-Modified").Single());

        // Nothing changed after the second it names: 304, with the validators again.
        var later = await GetAsync("/metrics/staff-dashboard", r => r.Headers.IfModifiedSince = modified.AddSeconds(1));
        Assert.Equal(HttpStatusCode.NotModified, later.StatusCode);
        Assert.Equal(modified, later.Content.Headers.LastModified);
        Assert.NotNull(later.Headers.ETag);
        var earlier = await GetAsync("/metrics/staff-dashboard", r => r.Headers.IfModifiedSince = modified.AddSeconds(-1));
        Assert.Equal(HttpStatusCode.OK, earlier.StatusCode);
        // Not a date: no condition.
        var garbage = await GetAsync("/metrics/staff-dashboard", r => r.Headers.TryAddWithoutValidation("If-Modified-Since", "yesterday"));
        Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);

        // A change, however soon after (even within the same second): a copy of the previous answer is not current.
        var second = await App.PublishAsync([Customer("u-2")]);
        var changed = await GetAsync($"/metrics/staff-dashboard?min_sequence={second.LastSequence}", r => r.Headers.IfModifiedSince = modified);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.True(changed.Content.Headers.LastModified >= modified);
        Assert.Equal(2, (await App.GetJsonAsync("/metrics/staff-dashboard")).GetProperty("total_customers").GetInt32());

        // If-None-Match is the exact validator and wins over If-Modified-Since.
        var tag = changed.Headers.ETag!;
        var byTag = await GetAsync("/metrics/staff-dashboard", r =>
        {
            r.Headers.IfNoneMatch.Add(tag);
            r.Headers.IfModifiedSince = modified.AddSeconds(-10);
        });
        Assert.Equal(HttpStatusCode.NotModified, byTag.StatusCode);
    }

    [Fact]
    public async Task A_rebuild_is_a_change_of_what_reads_serve()
    {
        var receipt = await App.PublishAsync([Customer("u-1")]);
        var read = await GetAsync($"/metrics/staff-dashboard?min_sequence={receipt.LastSequence}");
        var before = read.Content.Headers.LastModified!.Value;
        var status = await App.RebuildAsync("UserMetrics");
        var finished = DateTimeOffset.Parse(status.GetProperty("finishedAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

        var after = await GetAsync("/metrics/staff-dashboard?min_sequence=" + status.GetProperty("processed").GetInt64());
        var modified = after.Content.Headers.LastModified!.Value;
        Assert.True(modified >= before);
        Assert.Equal(finished.ToUnixTimeSeconds(), modified.ToUnixTimeSeconds());
    }

    [Fact]
    public void Two_changes_in_one_second_make_that_second_ambiguous()
    {
        var t = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        static ProjectionSlots Slots(ReadModelChange? changed, ReadModelChange? before = null) => new() { Changed = changed, ChangedBefore = before };

        // One change in its second: exact.
        Assert.Equal((t.AddMilliseconds(300), false),
            ProjectionProgress.LastChanged([Slots(new(t.AddMilliseconds(300), 10), new(t.AddSeconds(-5), 4))], [10]));
        // Two in the same second: a copy from between them would look current.
        Assert.Equal((t.AddMilliseconds(700), true),
            ProjectionProgress.LastChanged([Slots(new(t.AddMilliseconds(700), 12), new(t.AddMilliseconds(300), 10))], [12]));
        // The latest change is beyond the progress read: the one before it, whose own predecessor is unknown.
        Assert.Equal((t.AddMilliseconds(300), true),
            ProjectionProgress.LastChanged([Slots(new(t.AddSeconds(2), 12), new(t.AddMilliseconds(300), 10))], [11]));
        // Both beyond: unknown.
        Assert.Equal((null, false), ProjectionProgress.LastChanged([Slots(new(t.AddSeconds(2), 12), new(t, 10))], [9]));
        // Never changed: none.
        Assert.Equal((null, false), ProjectionProgress.LastChanged([null, Slots(null)], [0, 0]));
        // Two projections changed in the same second: ambiguous; in different seconds: the later, exact.
        Assert.Equal((t.AddMilliseconds(900), true),
            ProjectionProgress.LastChanged([Slots(new(t.AddMilliseconds(900), 5)), Slots(new(t.AddMilliseconds(100), 7))], [5, 7]));
        Assert.Equal((t.AddSeconds(3), false),
            ProjectionProgress.LastChanged([Slots(new(t.AddSeconds(3), 5)), Slots(new(t.AddMilliseconds(100), 7))], [5, 7]));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_listed_origin_may_read_with_a_token_and_see_the_freshness_headers(string route)
    {
        using var client = App.Host.Server.CreateClient();
        var preflight = new HttpRequestMessage(HttpMethod.Options, route);
        preflight.Headers.Add("Origin", AppFixture.AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,last-event-id");
        var answer = await client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal(AppFixture.AllowedOrigin, answer.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var allowed = string.Join(",", answer.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant();
        Assert.Contains("authorization", allowed);
        Assert.Contains("last-event-id", allowed);
        Assert.False(answer.Headers.Contains("Access-Control-Allow-Credentials"));

        var read = await GetAsync(route, r => r.Headers.Add("Origin", AppFixture.AllowedOrigin));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(AppFixture.AllowedOrigin, read.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var exposed = string.Join(",", read.Headers.GetValues("Access-Control-Expose-Headers")).ToLowerInvariant();
        foreach (var header in new[] { "x-projection-sequence", "etag", "last-modified" })
        {
            Assert.Contains(header, exposed);
        }

        // Another origin gets no permission at all (its browser refuses the answer to the script).
        var stranger = await GetAsync(route, r => r.Headers.Add("Origin", "https://elsewhere.example"));
        Assert.False(stranger.Headers.Contains("Access-Control-Allow-Origin"));
        var strangerPreflight = new HttpRequestMessage(HttpMethod.Options, route);
        strangerPreflight.Headers.Add("Origin", "https://elsewhere.example");
        strangerPreflight.Headers.Add("Access-Control-Request-Method", "GET");
        Assert.False((await client.SendAsync(strangerPreflight)).Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://dashboard.example/app")]
    [InlineData("dashboard.example")]
    public void An_allowed_origin_that_is_not_one_origin_stops_the_start(string origin)
    {
        var error = Assert.ThrowsAny<Exception>(() => AppFixture.Build(b => b.UseSetting("Cors:AllowedOrigins:1", origin)));
        Assert.Contains("Cors:AllowedOrigins", error.ToString());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_stream_starts_with_the_answer_a_get_gives(string route)
    {
        var receipt = await App.PublishAllAsync(Projections.Sample.SampleData.Envelopes());
        var get = await GetAsync($"{route}{(route.Contains('?') ? '&' : '?')}min_sequence={receipt.LastSequence}");
        var body = await get.Content.ReadAsStringAsync();

        using var client = App.Host.Server.CreateClient();
        await using var stream = await EventStream.OpenAsync(client, route, TestTokens.Admin);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType!.MediaType);
        var first = await stream.NextEventAsync(Wait);
        Assert.Equal("update", first!.Event);
        Assert.Equal(get.Headers.GetValues(ReadModelEndpoint.SequenceHeader).Single(), first.Id);
        Assert.Equal(body, first.Data);
    }

    [Fact]
    public async Task A_stream_sends_each_change_once_at_most_once_per_interval_with_keep_alives_between()
    {
        var first = await App.PublishAsync([Customer("u-1")]);
        await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={first.LastSequence}");
        using var client = App.Host.Server.CreateClient();
        await using var stream = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin);
        var opening = await stream.NextEventAsync(Wait);
        Assert.Equal(first.LastSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), opening!.Id);

        var second = await App.PublishAsync([Customer("u-2"), Customer("u-3")]);
        var update = await stream.NextEventAsync(Wait);
        var expected = await GetAsync($"/metrics/staff-dashboard?min_sequence={second.LastSequence}");
        Assert.Equal(await expected.Content.ReadAsStringAsync(), update!.Data);
        Assert.Equal(second.LastSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), update.Id);
        Assert.True(update.At - opening.At >= TimeSpan.FromMilliseconds(900), $"two updates {update.At - opening.At} apart");

        // Nothing changes: keep-alive comments (every second in the tests), never the same answer again.
        for (var i = 0; i < 2; i++)
        {
            var quiet = await stream.NextAsync(Wait);
            Assert.Equal("keep-alive", quiet!.Comment);
            Assert.Null(quiet.Data);
        }

        // Events of another projection move nothing this answer shows: still no event.
        await App.PublishAsync([Envelopes.Of("product.created", new JsonObject
        {
            ["productId"] = "p-1", ["orgId"] = "o-1", ["name"] = "Print", ["price"] = 10,
        })]);
        var next = await stream.NextAsync(TimeSpan.FromSeconds(3));
        Assert.Equal("keep-alive", next!.Comment);
    }

    [Fact]
    public async Task Reconnecting_with_the_last_event_id_sends_the_answer_only_when_it_changed()
    {
        var first = await App.PublishAsync([Customer("u-1")]);
        var read = await GetAsync($"/metrics/staff-dashboard?min_sequence={first.LastSequence}");
        var sequence = read.Headers.GetValues(ReadModelEndpoint.SequenceHeader).Single();
        using var client = App.Host.Server.CreateClient();

        await using (var same = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin, lastEventId: sequence))
        {
            var message = await same.NextAsync(Wait);
            Assert.Equal("keep-alive", message!.Comment);
        }

        var second = await App.PublishAsync([Customer("u-2")]);
        await App.GetJsonAsync($"/metrics/staff-dashboard?min_sequence={second.LastSequence}");
        await using var changed = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin, lastEventId: sequence);
        var update = await changed.NextEventAsync(Wait);
        Assert.Equal(second.LastSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), update!.Id);
    }

    [Fact]
    public async Task A_stream_ends_when_its_token_expires()
    {
        var expires = DateTime.UtcNow.AddSeconds(3);
        var token = TestTokens.Create(new Dictionary<string, object> { ["role"] = "admin" }, expires: expires);
        using var client = App.Host.Server.CreateClient();
        await using var stream = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", token);
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        Assert.NotNull(await stream.NextEventAsync(Wait));
        while (await stream.NextAsync(Wait) is { } message)
        {
            Assert.NotNull(message.Comment);
        }

        // The JWT's exp has whole seconds.
        Assert.True(DateTime.UtcNow >= expires.AddSeconds(-1), $"ended at {DateTime.UtcNow:O}, token valid until {expires:O}");
    }

    [Fact]
    public async Task A_node_holds_at_most_its_stream_limit()
    {
        await using var host = AppFixture.Build(b =>
        {
            b.UseSetting("Reads:MaxStreams", "1");
            b.UseSetting("Projections:RunDaemon", "false");
        });
        using var client = host.Server.CreateClient();
        var streams = host.Services.GetRequiredService<ReadStreams>();
        await using (var open = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin))
        {
            Assert.Equal(HttpStatusCode.OK, open.Response.StatusCode);
            Assert.NotNull(await open.NextEventAsync(Wait));
            await using var refused = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Response.StatusCode);
            Assert.Equal("application/problem+json", refused.Response.Content.Headers.ContentType!.MediaType);
            Assert.NotNull(refused.Response.Headers.RetryAfter);
            Assert.Contains("Reads:MaxStreams", await refused.Response.Content.ReadAsStringAsync());
            // A plain read is not a stream: answered.
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics/staff-dashboard")
            {
                Headers = { Authorization = new("Bearer", TestTokens.Admin) },
            })).StatusCode);
        }

        // The closed stream frees its place.
        using var freed = new CancellationTokenSource(Wait);
        while (streams.Open > 0)
        {
            await Task.Delay(20, freed.Token);
        }

        await using var again = await EventStream.OpenAsync(client, "/metrics/staff-dashboard", TestTokens.Admin);
        Assert.Equal(HttpStatusCode.OK, again.Response.StatusCode);
    }

    [Fact]
    public async Task A_stream_needs_the_same_token_as_a_read()
    {
        using var client = App.Host.Server.CreateClient();
        await using var anonymous = await EventStream.OpenAsync(client, "/metrics/admin-dashboard", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Response.StatusCode);
        await using var staff = await EventStream.OpenAsync(client, "/metrics/admin-dashboard", TestTokens.For("staff"));
        Assert.Equal(HttpStatusCode.Forbidden, staff.Response.StatusCode);
    }
}

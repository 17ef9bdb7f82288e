using System.Net;
using Alba;
using Projections.ReadModels;
using Projections.Sample;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Metrics;

/// <summary>How every read endpoint answers: active_only, X-Projection-Sequence, min_sequence, ETag/304, Cache-Control.</summary>
public sealed class ReadEndpointTests(AppFixture app) : AppTest(app)
{
    public static TheoryData<string> Routes => new() { "/metrics/admin-dashboard", "/metrics/staff-dashboard", "/metrics/inventory" };

    [Theory]
    [InlineData("1", 120)]
    [InlineData("true", 120)]
    [InlineData("YES", 120)]
    [InlineData("True", 120)]
    [InlineData("0", 126)]
    [InlineData("false", 126)]
    [InlineData("No", 126)]
    public async Task Active_only_accepts_the_documented_spellings(string value, int expectedProducts)
    {
        var (last, _, _) = await App.PublishAllAsync(SampleData.Envelopes());
        foreach (var route in new[] { "/metrics/admin-dashboard", "/metrics/inventory" })
        {
            var json = await App.GetJsonAsync($"{route}?active_only={value}&min_sequence={last}");
            Assert.Equal(expectedProducts, json.GetProperty("total_products").GetInt32());
        }
    }

    [Fact]
    public async Task Active_only_defaults_to_active_products()
    {
        var (last, _, _) = await App.PublishAllAsync(SampleData.Envelopes());
        var json = await App.GetJsonAsync($"/metrics/inventory?min_sequence={last}");
        Assert.Equal(120, json.GetProperty("total_products").GetInt32());
    }

    [Theory]
    [InlineData("/metrics/admin-dashboard?active_only=maybe")]
    [InlineData("/metrics/inventory?active_only=2")]
    [InlineData("/metrics/inventory?active_only=")]
    [InlineData("/metrics/inventory?min_sequence=abc")]
    [InlineData("/metrics/staff-dashboard?min_sequence=-1")]
    public async Task Bad_query_values_are_a_400_problem(string url)
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(400);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var problem = await result.ReadAsJsonAsync<ProblemBody>();
        Assert.Contains(url.Contains("active_only") ? "active_only" : "min_sequence", problem!.Detail);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Reads_carry_sequence_etag_and_private_cache_control(string route)
    {
        var (last, _, _) = await App.PublishAllAsync(SampleData.Envelopes());
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url($"{route}?min_sequence={last}");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(200);
            s.ContentTypeShouldBe("application/json");
            s.Header("Cache-Control").SingleValueShouldEqual("private");
        });
        var headers = result.Context.Response.Headers;
        Assert.Equal(last, long.Parse(headers[ReadModelEndpoint.SequenceHeader]!));
        var etag = headers.ETag.ToString();
        Assert.StartsWith("\"", etag);

        // Same data: the validator matches and the answer is 304 with no body.
        var notModified = await App.Host.Scenario(s =>
        {
            s.Get.Url(route);
            s.WithBearerToken(TestTokens.Admin);
            s.WithRequestHeader("If-None-Match", etag);
            s.StatusCodeShouldBe(304);
        });
        Assert.Equal(etag, notModified.Context.Response.Headers.ETag.ToString());
        Assert.Equal("", await notModified.ReadAsTextAsync());

        // New data: the old validator no longer matches.
        var receipt = await App.PublishAsync([Envelopes.Of("user.registered", new() { ["userId"] = "late-user", ["role"] = "customer" }),
                                              Envelopes.Of("product.created", new() { ["productId"] = "late-product", ["orgId"] = "o", ["name"] = "n" })]);
        var changed = await App.Host.Scenario(s =>
        {
            s.Get.Url($"{route}?min_sequence={receipt.LastSequence}");
            s.WithBearerToken(TestTokens.Admin);
            s.WithRequestHeader("If-None-Match", etag);
            s.StatusCodeShouldBe(200);
        });
        Assert.NotEqual(etag, changed.Context.Response.Headers.ETag.ToString());
        Assert.True(long.Parse(changed.Context.Response.Headers[ReadModelEndpoint.SequenceHeader]!) >= receipt.LastSequence);
    }

    [Fact]
    public async Task Min_sequence_beyond_the_event_store_times_out_with_503_and_retry_after()
    {
        await using var host = AppFixture.Build(b => b.UseSetting("Projections:MinSequenceTimeout", "00:00:00.300"));
        var result = await host.Scenario(s =>
        {
            s.Get.Url("/metrics/staff-dashboard?min_sequence=999999999");
            s.WithBearerToken(TestTokens.Admin);
            s.StatusCodeShouldBe(HttpStatusCode.ServiceUnavailable);
            s.ContentTypeShouldBe("application/problem+json");
        });
        Assert.Equal("1", result.Context.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task An_empty_store_reads_as_zeros()
    {
        var json = await App.GetJsonAsync("/metrics/admin-dashboard");
        foreach (var field in json.EnumerateObject().Where(f => f.Value.ValueKind == System.Text.Json.JsonValueKind.Number))
        {
            Assert.Equal(0m, field.Value.GetDecimal());
        }

        Assert.Equal(27, json.EnumerateObject().Count(f => f.Value.ValueKind == System.Text.Json.JsonValueKind.Number));
    }
}

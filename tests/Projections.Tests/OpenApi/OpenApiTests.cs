using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Projections.Sample;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.OpenApi;

/// <summary>
/// The OpenAPI document (/openapi/v1.json): the same as the checked-in docs/openapi.json, complete (ids, summaries,
/// described parameters and answers; every read route's parameters, headers and media types), and true: the routes
/// enforce the security it states, and the bodies the routes really write have exactly the documented fields and types.
/// </summary>
public sealed class OpenApiTests(AppFixture app) : AppTest(app)
{
    private const string Analytics = "/api/admin/analytics";
    private const string January = "start_date=2024-01-01&end_date=2024-01-31";

    /// <summary>The routes of shared/contract/reads.md, which all answer the same way.</summary>
    private static readonly string[] ReadRoutes = ["/metrics/admin-dashboard", "/metrics/staff-dashboard", "/metrics/inventory", Analytics];

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    private static string CheckedIn => Path.Combine(RepositoryRoot.Path, "docs", "openapi.json");

    private const string Regenerate = "Regenerate it with ops/openapi (or UPDATE_OPENAPI=1 ops/test --filter \"FullyQualifiedName~OpenApiTests\"), " +
        "review the diff, and commit docs/openapi.json with the change that caused it.";

    [Fact]
    public async Task Served_document_is_the_checked_in_docs_openapi_json()
    {
        var served = await ServedTextAsync();
        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(CheckedIn, served.ReplaceLineEndings("\n").TrimEnd() + "\n");
            return;
        }

        Assert.True(File.Exists(CheckedIn), $"docs/openapi.json is missing. {Regenerate}");
        var difference = FirstDifference(JsonNode.Parse(await File.ReadAllTextAsync(CheckedIn)), JsonNode.Parse(served), "$");
        Assert.True(difference is null, $"The served OpenAPI document differs from docs/openapi.json at {difference}. {Regenerate}");
    }

    [Fact]
    public async Task Every_operation_has_an_id_a_summary_and_described_parameters_and_answers()
    {
        var document = await ServedAsync();
        var check = new SchemaCheck(document);
        var ids = new HashSet<string>();
        foreach (var (name, operation) in Operations(document))
        {
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name}: no summary");
            var id = operation["operationId"]?.GetValue<string>();
            Assert.False(string.IsNullOrWhiteSpace(id), $"{name}: no operationId");
            Assert.True(ids.Add(id!), $"{name}: operationId {id} is used twice");
            Assert.NotNull(operation["tags"]);
            foreach (var parameter in operation["parameters"]?.AsArray().Select(p => check.Resolve(p!)) ?? [])
            {
                Assert.False(string.IsNullOrWhiteSpace(parameter["description"]?.GetValue<string>()), $"{name}: parameter {parameter["name"]} has no description");
                Assert.NotNull(parameter["schema"]?["type"]);
            }

            var responses = operation["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2'));
            foreach (var (status, response) in responses)
            {
                Assert.False(string.IsNullOrWhiteSpace(check.Resolve(response!)["description"]?.GetValue<string>()), $"{name} {status}: no description");
            }
        }
    }

    [Fact]
    public async Task Every_read_route_documents_its_parameters_headers_media_types_and_true_examples()
    {
        var document = await ServedAsync();
        var check = new SchemaCheck(document);
        foreach (var route in ReadRoutes)
        {
            var operation = document["paths"]![route]!["get"]!;
            var parameters = operation["parameters"]!.AsArray().Select(p => check.Resolve(p!)).ToDictionary(p => p["name"]!.GetValue<string>());
            Assert.Equal("query", parameters["min_sequence"]["in"]!.GetValue<string>());
            Assert.Equal("integer", parameters["min_sequence"]["schema"]!["type"]!.GetValue<string>());
            string[] expected = route == Analytics
                ? ["start_date", "end_date", "tz", "compare", "format"]
                : route.EndsWith("staff-dashboard", StringComparison.Ordinal) ? [] : ["active_only"];
            Assert.All(expected, name => Assert.True(parameters.ContainsKey(name), $"{route}: {name} is not documented"));
            Assert.All(new[] { "If-None-Match", "If-Modified-Since", "Last-Event-ID" },
                name => Assert.Equal("header", parameters[name]["in"]!.GetValue<string>()));

            var responses = operation["responses"]!.AsObject().ToDictionary(r => r.Key, r => check.Resolve(r.Value!));
            Assert.Equal(["200", "304", "400", "401", "403", "503"], responses.Keys.Order());
            var ok = responses["200"];
            var headers = ok["headers"]!.AsObject().ToDictionary(h => h.Key, h => check.Resolve(h.Value!));
            Assert.Equal("integer", headers["X-Projection-Sequence"]["schema"]!["type"]!.GetValue<string>());
            Assert.All(new[] { "ETag", "Last-Modified", "Cache-Control" }, name => Assert.True(headers.ContainsKey(name), $"{route}: 200 without {name}"));
            Assert.True(responses["304"]["headers"]!.AsObject().ContainsKey("ETag"));
            Assert.True(responses["503"]["headers"]!.AsObject().ContainsKey("Retry-After"));

            var json = ok["content"]!["application/json"]!;
            foreach (var (name, example) in json["examples"]?.AsObject() ?? [])
            {
                var value = JsonDocument.Parse(check.Resolve(example!)["value"]!.ToJsonString()).RootElement;
                AssertNone(check.Problems(value, json["schema"]!).Select(p => $"{route}, example {name}: {p}"));
            }

            var media = ok["content"]!.AsObject().Select(c => c.Key).ToList();
            Assert.Equal(route == Analytics ? ["application/json", "text/csv", "text/event-stream"] : ["application/json", "text/event-stream"], media);
            foreach (var status in new[] { "400", "401", "403", "503" })
            {
                Assert.Equal(["application/problem+json"], responses[status]["content"]!.AsObject().Select(c => c.Key));
            }
        }
    }

    [Fact]
    public async Task Every_route_asks_for_a_token_exactly_when_the_document_says_so()
    {
        var document = await ServedAsync();
        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());
        foreach (var (name, operation) in Operations(document))
        {
            var (method, path) = (name.Split(' ')[0], name.Split(' ')[1]);
            var url = path.Replace("{name}", "UserMetrics").Replace("{rebuildId}", "rb-none").Replace("{id}", Guid.Empty.ToString());
            var result = await App.Host.Scenario(s =>
            {
                if (method == "post")
                {
                    s.Post.Text("[]").ContentType("application/json").ToUrl(url);
                }
                else
                {
                    s.Get.Url(url);
                }

                s.IgnoreStatusCode();
            });
            var secured = operation["security"]?.AsArray().Count > 0;
            Assert.True(secured == (result.Context.Response.StatusCode == 401),
                $"{name}: the document says {(secured ? "a token is needed" : "anonymous")}, the route answered {result.Context.Response.StatusCode} without a token");
            if (secured)
            {
                Assert.Equal(["bearer"], operation["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)));
            }
        }
    }

    [Fact]
    public async Task Read_bodies_have_exactly_the_documented_fields_and_types()
    {
        var document = await ServedAsync();
        var check = new SchemaCheck(document);
        var (last, _, _) = await App.PublishAllAsync(SampleData.Envelopes());
        string[] urls =
        [
            "/metrics/admin-dashboard", "/metrics/admin-dashboard?active_only=false", "/metrics/staff-dashboard", "/metrics/inventory",
            "/metrics/inventory?active_only=false", $"{Analytics}?{January}", $"{Analytics}?{January}&compare=previous_period",
            $"{Analytics}?{January}&tz=Asia/Kathmandu&compare=previous_period", Analytics,
        ];
        var problems = new List<string>();
        foreach (var url in urls)
        {
            var body = await App.GetJsonAsync($"{url}{(url.Contains('?') ? '&' : '?')}min_sequence={last}");
            var route = url.Split('?')[0];
            problems.AddRange(check.Problems(body, Schema(document, route, "get", "200")).Select(p => $"{url}: {p}"));

            if (route == Analytics)
            {
                var analytics = body.GetProperty("analytics");
                Assert.Equal(url.Contains("compare"), analytics.TryGetProperty("previousPeriod", out _));
            }
        }

        AssertNone(problems);

        // The bodies above held an item of every array and map, so their item schemas were read too.
        var january = (await App.GetJsonAsync($"{Analytics}?{January}&min_sequence={last}")).GetProperty("analytics");
        Assert.NotEqual(0, january.GetProperty("topArtists").GetArrayLength());
        Assert.NotEqual(0, january.GetProperty("timeline").GetArrayLength());
        var inventory = await App.GetJsonAsync($"/metrics/inventory?min_sequence={last}");
        Assert.NotEmpty(inventory.GetProperty("inventory_revenue_by_currency").EnumerateObject());

        // The documented examples are the answers on this sample data set, as they claim.
        foreach (var url in ReadRoutes.Select(r => r == Analytics ? $"{Analytics}?start_date=2024-01-01&end_date=2024-01-02" : r))
        {
            var example = document["paths"]![url.Split('?')[0]]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["examples"]!["sample"]!["value"];
            var body = await App.GetJsonAsync($"{url}{(url.Contains('?') ? '&' : '?')}min_sequence={last}");
            Assert.True(JsonNode.DeepEquals(example, JsonNode.Parse(body.GetRawText())), $"{url}: the example is not the answer on the sample data:\n{body}");
        }
    }

    [Fact]
    public async Task Ingest_and_operations_bodies_have_exactly_the_documented_fields_and_types()
    {
        var document = await ServedAsync();
        var check = new SchemaCheck(document);
        var envelopes = new JsonArray([.. SampleData.Envelopes().Take(50).Select(e => e.DeepClone())]).ToJsonString();
        await AssertBody(check, document, "post", "/api/events", "202", s => s.Post.Text(envelopes).ContentType("application/json").ToUrl("/api/events"));
        var invalid = await AssertBody(check, document, "post", "/api/events", "400",
            s => s.Post.Text("""[{"id":"x","type":"nope"}]""").ContentType("application/json").ToUrl("/api/events"));
        Assert.Equal(1, invalid.GetProperty("errors").GetArrayLength());

        await AssertBody(check, document, "get", "/api/admin/projections", "200", s => s.Get.Url("/api/admin/projections"));
        await AssertBody(check, document, "get", "/api/admin/projections/dead-letters", "200", s => s.Get.Url("/api/admin/projections/dead-letters"));
        await AssertBody(check, document, "post", "/api/admin/projections/dead-letters/replay", "202",
            s => s.Post.Url("/api/admin/projections/dead-letters/replay"));
        await AssertBody(check, document, "post", "/api/admin/projections/dead-letters/{id}/replay", "404",
            s => s.Post.Url($"/api/admin/projections/dead-letters/{Guid.Empty}/replay"));

        var accepted = await AssertBody(check, document, "post", "/api/admin/projections/{name}/rebuild", "202",
            s => s.Post.Url("/api/admin/projections/UserMetrics/rebuild"));
        await App.WaitForRebuildAsync(accepted.GetProperty("statusUrl").GetString()!);
        await AssertBody(check, document, "get", "/api/admin/projections/{name}/rebuilds/{rebuildId}", "200",
            s => s.Get.Url(accepted.GetProperty("statusUrl").GetString()!));
        await AssertBody(check, document, "get", "/api/admin/projections/{name}/rebuilds/{rebuildId}", "404",
            s => s.Get.Url("/api/admin/projections/Nothing/rebuilds/rb-none"));
    }

    [Fact]
    public async Task Problem_bodies_have_exactly_the_documented_fields_and_types()
    {
        var document = await ServedAsync();
        var check = new SchemaCheck(document);
        await AssertBody(check, document, "get", "/metrics/inventory", "400", s => s.Get.Url("/metrics/inventory?active_only=maybe"));
        await AssertBody(check, document, "get", Analytics, "400", s => s.Get.Url($"{Analytics}?compare=last_year"));
        await AssertBody(check, document, "get", Analytics, "401", s => s.Get.Url(Analytics), token: "");
        await AssertBody(check, document, "get", Analytics, "403", s => s.Get.Url(Analytics), token: TestTokens.For("staff", "view_customers"));
    }

    [Fact]
    public async Task The_api_reference_is_served_at_docs_in_Development_only()
    {
        await App.Host.Scenario(s =>
        {
            s.Get.Url("/docs/");
            s.StatusCodeShouldBe(404);
        });

        await using var development = AppFixture.Build(environment: "Development");
        var page = await development.Scenario(s =>
        {
            s.Get.Url("/docs/");
            s.StatusCodeShouldBe(200);
        });
        Assert.StartsWith("text/html", page.Context.Response.ContentType);
        Assert.Contains("openapi/v1.json", await page.ReadAsTextAsync());
    }

    /// <summary>Calls a route (as admin unless <paramref name="token"/> is given; "" for none), expects the status, and
    /// checks the body against what the document says that status answers.</summary>
    private async Task<JsonElement> AssertBody(SchemaCheck check, JsonNode document, string method, string path, string status,
        Action<Scenario> request, string? token = null)
    {
        var result = await App.Host.Scenario(s =>
        {
            request(s);
            if (token != "")
            {
                s.WithBearerToken(token ?? TestTokens.Admin);
            }

            s.StatusCodeShouldBe(int.Parse(status));
        });
        var response = check.Resolve(document["paths"]![path]![method]!["responses"]![status]!);
        var (mediaType, content) = response["content"]!.AsObject().Single();
        Assert.StartsWith(mediaType, result.Context.Response.ContentType);
        var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.Clone();
        AssertNone(check.Problems(body, content!["schema"]!).Select(p => $"{method} {path} {status}: {p}"));
        return body;
    }

    private static void AssertNone(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        Assert.True(list.Count == 0, $"The body differs from the document:\n{string.Join("\n", list)}");
    }

    private static JsonNode Schema(JsonNode document, string path, string method, string status) =>
        document["paths"]![path]![method]!["responses"]![status]!["content"]!["application/json"]!["schema"]!;

    private static IEnumerable<(string Name, JsonNode Operation)> Operations(JsonNode document) =>
        from path in document["paths"]!.AsObject()
        from method in path.Value!.AsObject()
        where Methods.Contains(method.Key)
        select ($"{method.Key} {path.Key}", method.Value!);

    private async Task<string> ServedTextAsync()
    {
        var result = await App.Host.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBe(200);
        });
        return await result.ReadAsTextAsync();
    }

    private async Task<JsonNode> ServedAsync() => JsonNode.Parse(await ServedTextAsync())!;

    /// <summary>The JSON path of the first difference (objects compared by member name, arrays in order), or null.</summary>
    private static string? FirstDifference(JsonNode? expected, JsonNode? actual, string path)
    {
        switch (expected, actual)
        {
            case (JsonObject e, JsonObject a):
                foreach (var name in e.Select(p => p.Key).Union(a.Select(p => p.Key)))
                {
                    if (!e.ContainsKey(name) || !a.ContainsKey(name))
                    {
                        return $"{path}.{name} (only in {(e.ContainsKey(name) ? "docs/openapi.json" : "the served document")})";
                    }

                    if (FirstDifference(e[name], a[name], $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case (JsonArray e, JsonArray a):
                for (var i = 0; i < Math.Max(e.Count, a.Count); i++)
                {
                    if (i >= e.Count || i >= a.Count)
                    {
                        return $"{path}[{i}] (the arrays' lengths differ)";
                    }

                    if (FirstDifference(e[i], a[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(expected, actual) ? null : $"{path} ({expected?.ToJsonString()} in the file, {actual?.ToJsonString()} served)";
        }
    }
}

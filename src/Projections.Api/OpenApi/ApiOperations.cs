using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Projections.Auth;
using Projections.Ingest;
using Projections.Operations;
using Projections.ReadModels;
using static Projections.OpenApi.ApiSchemas;

namespace Projections.OpenApi;

/// <summary>
/// What each route is, keyed by method and route pattern, so that the endpoints' own files stay as they are: the
/// operation's id, summary and description, its parameters, and every answer with its body and headers. Who may call
/// a route is read from its endpoint (its authorization policy, or <c>AllowAnonymous</c>), never restated here.
/// </summary>
internal static class ApiOperations
{
    /// <summary>Describes the operation when its route is known; false otherwise.</summary>
    /// <param name="route">The method and route pattern, e.g. <c>GET /metrics/inventory</c> (parameters without constraints).</param>
    /// <param name="metadata">The endpoint's metadata, where its authorization is read.</param>
    public static async Task<bool> DescribeAsync(OpenApiOperation operation, string route, IEnumerable<object> metadata,
        OpenApiDocument document, Func<Type, Task<OpenApiSchema>> schemaOf, IServiceProvider services)
    {
        var op = new Describer(operation, document);
        switch (route)
        {
            case "GET /metrics/admin-dashboard":
                op.Read("getAdminDashboard", "Admin dashboard: user counts and product/inventory metrics",
                    "Every user count by role and the product and inventory metrics, as the Metrics API's admin dashboard shows them.",
                    AdminDashboard, op.Parameter(ApiParameters.ActiveOnly));
                break;
            case "GET /metrics/staff-dashboard":
                op.Read("getStaffDashboard", "Staff dashboard: customer counts",
                    "The customer counts of the staff dashboard.", StaffDashboard);
                break;
            case "GET /metrics/inventory":
                op.Read("getInventoryMetrics", "Product and inventory metrics",
                    "The product and inventory metrics of the admin dashboard, without the user counts.",
                    InventoryMetrics, op.Parameter(ApiParameters.ActiveOnly));
                break;
            case "GET /api/admin/analytics":
                op.Read("getAnalytics", "Gallery analytics for a date range",
                    "Orders, revenue and commission, orders by status, the top 10 artists, carts, referrals and a daily timeline " +
                    "over whole calendar days (UTC, or `tz`), optionally beside the previous period of the same length. " +
                    "As JSON, or as a CSV export with `format=csv` (or `Accept: text/csv`).",
                    AnalyticsResponse, ApiParameters.Analytics);
                break;

            case "POST /api/events":
                op.Ingest();
                break;

            case "GET /api/admin/projections":
                op.Named("getProjectionStatus", "Projections' status, progress and lag",
                    "The event store's high-water mark, and for every projection its status (`running`, `rebuilding`, `retrying`, " +
                    "`paused`, `failed`), the sequence it has processed through, its lag in events and seconds, its last error, " +
                    "the events it has set aside, what it has not built yet and the rebuild in progress (its id and status URL, whoever asked " +
                    "for it). Read from the database: any node answers for the cluster.");
                op.Json("200", "The status.", await op.Component(typeof(ProjectionsReport), schemaOf), NoStore);
                op.DatabaseUnavailable();
                break;
            case "POST /api/admin/projections/{name}/rebuild":
                op.Named("requestRebuild", "Rebuild a projection without downtime",
                    "Starts a blue/green rebuild: the projection is replayed into the idle slot while reads go on from the active " +
                    "one, which is switched when the rebuild has caught up. Follow `statusUrl` (also in `Location`).");
                op.PathParameter("name", "The projection.", services.GetService<ProjectionCatalogue>()?.Names);
                op.Json("202", "The rebuild is accepted.", await op.Component(typeof(RebuildAccepted), schemaOf), ("Location", Header.Location));
                op.Problem("404", "There is no projection of that name.");
                op.Problem("409", "A rebuild of that projection is running or about to start.", RebuildConflict);
                op.DatabaseUnavailable();
                break;
            case "GET /api/admin/projections/{name}/rebuilds/{rebuildId}":
                op.Named("getRebuildStatus", "A rebuild's progress",
                    "`running` until the rebuild has caught up and the slots are switched, then `completed` (or `failed`, with its error).");
                op.PathParameter("name", "The projection.", services.GetService<ProjectionCatalogue>()?.Names);
                op.PathParameter("rebuildId", "The `rebuildId` the rebuild request answered.");
                op.Json("200", "The rebuild's status.", await op.Component(typeof(RebuildStatus), schemaOf));
                op.Problem("404", "There is no such projection, or it has no rebuild of that id.");
                op.DatabaseUnavailable();
                break;
            case "GET /api/admin/projections/dead-letters":
                op.Named("listDeadLetters", "Events the projections have set aside",
                    "Events a projection could not apply (it threw), set aside so that the projection goes on; at most 1,000, in " +
                    "sequence order.");
                op.Json("200", "The set-aside events.", await op.Component(typeof(DeadLetterList), schemaOf), NoStore);
                op.DatabaseUnavailable();
                break;
            case "POST /api/admin/projections/dead-letters/replay":
                op.Named("replayDeadLetters", "Replay every set-aside event",
                    "After a fix, has each projection apply its set-aside events again, in order with everything else it processes. " +
                    "The ones that apply leave the list; the ones that still throw stay, with the new reason. The projections have " +
                    "dealt with the request once their `sequence` in the status reaches the answer's `sequence`.");
                op.Json("202", "The replay is requested.", await op.Component(typeof(ReplayAccepted), schemaOf));
                op.DatabaseUnavailable();
                break;
            case "POST /api/admin/projections/dead-letters/{id}/replay":
                op.Named("replayDeadLetter", "Replay one set-aside event",
                    "As replaying every set-aside event, for the event of this id only.");
                op.PathParameter("id", "The set-aside event's id (the publisher's envelope id).", format: "uuid");
                op.Json("202", "The replay is requested.", await op.Component(typeof(ReplayAccepted), schemaOf));
                op.Problem("404", "No projection has set aside an event of that id.");
                op.DatabaseUnavailable();
                break;

            case "GET /health/live":
                op.Named("getLiveness", "Liveness probe",
                    "200 while the process serves HTTP; nothing else is checked, so a database outage never restarts the service.");
                op.Text("200", "Alive: `Healthy`.");
                break;
            case "GET /health/ready":
                op.Named("getReadiness", "Readiness probe",
                    "Whether this node should get traffic: the database answers, no projection has failed, is retrying a batch " +
                    "or is more than `Health:MaxLagEvents` (default 100,000) behind, and no event has waited longer than " +
                    "`Health:StalledAfter` (default 60 s) to be projected.");
                op.Text("200", "Ready: `Healthy` (or `Degraded: …`).", NoStore);
                op.Text("503", "Not ready: `Unhealthy: ` and the reasons.", NoStore);
                break;
            default:
                if (route == "GET " + services.GetService<Microsoft.Extensions.Options.IOptions<Hosting.TelemetrySettings>>()?.Value.PrometheusPath)
                {
                    op.Named("scrapePrometheus", "Prometheus scrape",
                        "The service's metrics (ingest, projections, reads, ASP.NET Core, Marten) in the Prometheus text format.");
                    op.Text("200", "The metrics.", mediaTypes: ["text/plain", "application/openmetrics-text"]);
                    break;
                }

                return false;
        }

        op.Authorization(metadata);
        op.SortResponses();
        return true;
    }

    private static readonly (string, Header) NoStore = ("Cache-Control", Header.NoStore);

    /// <summary>The reusable headers (components/headers).</summary>
    public enum Header
    {
        ProjectionSequence,
        ETag,
        LastModified,
        CachePrivate,
        NoStore,
        RetryAfter,
        Location,
        ContentDisposition,
        Vary,
        WwwAuthenticate,
    }

    /// <summary>Builds one operation; the parts each kind of route shares.</summary>
    private sealed class Describer(OpenApiOperation operation, OpenApiDocument document)
    {
        public void Named(string operationId, string summary, string description)
        {
            operation.OperationId = operationId;
            operation.Summary = summary;
            operation.Description = description;
            operation.Responses ??= [];
            operation.Responses.Clear();
        }

        /// <summary>A read route: its parameters and every answer of <c>ReadModelEndpoint</c> (reads.md).</summary>
        public void Read(string operationId, string summary, string description, string schema, params IOpenApiParameter[] parameters)
        {
            var analytics = schema == AnalyticsResponse;
            Named(operationId, summary, description +
                "\n\nEvery read route answers the same way: `X-Projection-Sequence` says which event sequence the answer reflects " +
                "(`min_sequence` waits for one), `ETag` and `Last-Modified` allow conditional requests (304), and " +
                "`Accept: text/event-stream` keeps the connection open for live updates.");
            SetParameters([.. parameters, Parameter(ApiParameters.MinSequence), Parameter(ApiParameters.IfNoneMatch),
                Parameter(ApiParameters.IfModifiedSince), Parameter(ApiParameters.LastEventId)]);

            var content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["application/json"] = new() { Schema = new OpenApiSchemaReference(schema, document), Examples = ApiExamples.For(schema) },
            };
            if (analytics)
            {
                content["text/csv"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Description = "The CSV export (RFC 4180, UTF-8), downloaded as `gallery-analytics-<first>-<last>.csv`: " +
                            "the date range, the overview, the top artists and the timeline, then the previous period's when " +
                            "compared. A text cell a spreadsheet would run as a formula starts with an apostrophe.",
                    },
                };
            }

            content["text/event-stream"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Live updates (Server-Sent Events), with `Accept: text/event-stream`. The first event is the " +
                        "current answer, then one each time the answer changes, at most one per `Reads:StreamInterval` (default " +
                        "1 s), never an unchanged answer twice. Each event: `id: <sequence>` (the answer's " +
                        "X-Projection-Sequence), `event: update`, and `data:` the JSON a plain GET with the same query answers at " +
                        "that sequence, on one line. A `: keep-alive` comment every 15 s when nothing changed. On reconnect, " +
                        "`Last-Event-ID` skips a first event equal to the one already seen. The stream ends when the token expires.",
                },
            };
            var headers = new List<(string, Header)>
            {
                ("X-Projection-Sequence", Header.ProjectionSequence),
                ("ETag", Header.ETag),
                ("Last-Modified", Header.LastModified),
                ("Cache-Control", Header.CachePrivate),
            };
            var notModified = headers.ToList();
            if (analytics)
            {
                headers.Add(("Content-Disposition", Header.ContentDisposition));
                headers.Add(("Vary", Header.Vary));
            }

            operation.Responses!["200"] = new OpenApiResponse
            {
                Description = analytics
                    ? "The analytics: JSON, the CSV export (`format=csv` or `Accept: text/csv`), or live updates (`Accept: text/event-stream`)."
                    : "The figures as JSON, or live updates with `Accept: text/event-stream`.",
                Content = content,
                Headers = Headers(headers),
            };
            operation.Responses["304"] = new OpenApiResponse
            {
                Description = "Not Modified: the answer still has the `ETag` in `If-None-Match`, or has not changed since " +
                    "`If-Modified-Since`. No body.",
                Headers = Headers(notModified),
            };
            Problem("400", analytics
                ? "A query value is invalid: an unparseable date, `start_date` after `end_date`, a range over 366 days, a `tz` " +
                  "that is not served, or an unknown `compare` or `format`, or a bad `min_sequence`. The detail says which."
                : "A query value is invalid (`active_only` or `min_sequence`); the detail says which.");
            Problem("503", "Service Unavailable, with `Retry-After`: the read model has not caught up with `min_sequence` within " +
                "`Projections:MinSequenceTimeout` (default 5 s), this node already holds `Reads:MaxStreams` live streams " +
                (analytics ? "(default 1,000), the `tz` is configured but not built until the analytics are rebuilt, " : "(default 1,000), ") +
                "or the database is unavailable.", retryAfter: true);
        }

        /// <summary><c>POST /api/events</c>: the envelopes in, the receipt or the problem out.</summary>
        public void Ingest()
        {
            Named("publishEvents", "Publish a batch of events",
                "Validates the whole batch first, then appends it in one transaction: if any envelope is invalid, nothing of " +
                "the batch is stored. An envelope whose `id` is already stored is a duplicate: acknowledged, without effect. " +
                "Read what you published with `?min_sequence=<lastSequence>` on any read route.");
            var envelope = new OpenApiSchemaReference(EventEnvelope, document);
            var batch = new OpenApiSchema
            {
                OneOf =
                [
                    ApiSchemas.Array(envelope, "1 to 1,000 envelopes.", maxItems: 1000).WithMinItems(1),
                    envelope,
                ],
                Description = "A JSON array of 1 to 1,000 envelopes, or a single envelope; at most 5 MiB.",
            };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The events, as the v1 contract (docs/events-v1.md) defines them. `application/json`, or any " +
                    "`application/*+json`.",
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/json"] = new() { Schema = batch },
                },
            };
            operation.Responses!["202"] = new OpenApiResponse
            {
                Description = "Accepted: stored (or already stored). `lastSequence` is the event store's sequence after this " +
                    "append (the current one if everything was a duplicate).",
                Content = JsonContent(new OpenApiSchemaReference(nameof(IngestReceipt), document)),
            };
            Problem("400", "Not JSON, not envelopes, or invalid envelopes: `errors` lists every invalid one (`index`, `id`, " +
                "`error`). Nothing of the batch was stored.", IngestProblem);
            Problem("413", "The body is over 5 MiB: send fewer envelopes per request.");
            Problem("415", "The content type is not `application/json` (or `application/*+json`).");
            Problem("503", "Nothing was stored: this node is already working on `Ingest:MaxConcurrentBatches` batches with " +
                "`Ingest:MaxQueuedBatches` more waiting, the projections are more than `Ingest:MaxProjectionLag` events behind, the " +
                "append met too much contention, or the database is unavailable. Send " +
                "the same batch again after `Retry-After` (duplicates are harmless).", retryAfter: true);
        }

        public IOpenApiParameter Parameter(string id) => new OpenApiParameterReference(id, document);

        public void PathParameter(string name, string description, IEnumerable<string>? values = null, string? format = null)
        {
            var schema = values is null ? ApiSchemas.Text("", format) : ApiSchemas.Enum("", values);
            schema.Description = null;
            SetParameters([new OpenApiParameter { Name = name, In = ParameterLocation.Path, Required = true, Description = description, Schema = schema }]);
        }

        /// <summary>Puts these parameters in place of the generator's of the same name, keeping any others.</summary>
        private void SetParameters(IReadOnlyList<IOpenApiParameter> parameters)
        {
            var names = parameters.Select(NameOf).ToHashSet(StringComparer.Ordinal);
            var kept = (operation.Parameters ?? []).Where(p => !names.Contains(NameOf(p))).ToList();
            operation.Parameters = [.. kept, .. parameters];
        }

        /// <summary>The name of a parameter, or of the parameter a reference stands for (the components come later).</summary>
        private static string NameOf(IOpenApiParameter parameter) =>
            parameter is OpenApiParameterReference reference ? reference.Reference.Id! : parameter.Name!;

        public async Task<IOpenApiSchema> Component(Type type, Func<Type, Task<OpenApiSchema>> schemaOf)
        {
            var id = type.Name;
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
            if (!document.Components.Schemas.ContainsKey(id))
            {
                document.Components.Schemas[id] = await schemaOf(type);
            }

            return new OpenApiSchemaReference(id, document);
        }

        public void Json(string status, string description, IOpenApiSchema schema, params (string Name, Header Header)[] headers) =>
            operation.Responses![status] = new OpenApiResponse
            {
                Description = description,
                Content = JsonContent(schema),
                Headers = headers.Length == 0 ? null : Headers(headers),
            };

        public void Text(string status, string description, (string Name, Header Header)? header = null, string[]? mediaTypes = null) =>
            operation.Responses![status] = new OpenApiResponse
            {
                Description = description,
                Content = (mediaTypes ?? ["text/plain"]).ToDictionary(m => m, _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    StringComparer.Ordinal),
                Headers = header is null ? null : Headers([header.Value]),
            };

        public void Problem(string status, string description, string schema = ApiSchemas.Problem, bool retryAfter = false) =>
            operation.Responses![status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(schema, document) },
                },
                Headers = retryAfter ? Headers([("Retry-After", Header.RetryAfter)]) : null,
            };

        public void DatabaseUnavailable() =>
            Problem("503", "The database is unavailable; nothing was changed. Retry after `Retry-After`.", retryAfter: true);

        /// <summary>
        /// A route with an authorization policy needs a bearer token: the security requirement, 401 and 403, and who may
        /// call it. A route with none (or <c>AllowAnonymous</c>) is anonymous, as the endpoint is.
        /// </summary>
        public void Authorization(IEnumerable<object> metadata)
        {
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (policies.Count == 0 || metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [];
                return;
            }

            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocument.BearerScheme, document)] = [] },
            ];
            operation.Responses!["401"] = new OpenApiResponseReference(ApiDocument.Unauthorized, document);
            operation.Responses["403"] = new OpenApiResponseReference(ApiDocument.Forbidden, document);
            var allowed = string.Join("; ", policies.Select(p => p is null ? "any valid token" : Allowed.GetValueOrDefault(p, p)));
            operation.Description += $"\n\nAllowed: {allowed}.";
        }

        public void SortResponses()
        {
            var responses = operation.Responses!;
            var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
            responses.Clear();
            foreach (var (status, response) in sorted)
            {
                responses[status] = response;
            }
        }

        private Dictionary<string, IOpenApiHeader> Headers(IEnumerable<(string Name, Header Header)> headers) =>
            headers.ToDictionary(h => h.Name, h => (IOpenApiHeader)new OpenApiHeaderReference(h.Header.ToString(), document), StringComparer.OrdinalIgnoreCase);

        private static Dictionary<string, OpenApiMediaType> JsonContent(IOpenApiSchema schema) =>
            new(StringComparer.Ordinal) { ["application/json"] = new() { Schema = schema } };
    }

    /// <summary>Who each authorization policy lets in (shared/contract/auth.md).</summary>
    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        [AuthSetup.AdminOnly] = "role `admin`",
        [AuthSetup.CustomerCounts] = "role `admin`, or role `staff` with permission `view_customers`",
        [AuthSetup.InventoryMetrics] = "role `admin`, or role `staff` with permission `manage_inventory`",
        [AuthSetup.PublishEvents] = "role `service` or `admin`",
        [AuthSetup.ReadTelemetry] = "role `admin` or `service`",
    };

    private static OpenApiSchema WithMinItems(this OpenApiSchema schema, int minItems)
    {
        schema.MinItems = minItems;
        return schema;
    }
}

/// <summary>The reusable parameters (components/parameters), each under its own name.</summary>
internal static class ApiParameters
{
    public const string ActiveOnly = "active_only";
    public const string MinSequence = "min_sequence";
    public const string IfNoneMatch = "If-None-Match";
    public const string IfModifiedSince = "If-Modified-Since";
    public const string LastEventId = "Last-Event-ID";

    /// <summary>The analytics' own query parameters, described in place.</summary>
    public static IOpenApiParameter[] Analytics =>
    [
        Query("start_date", "The first day: `YYYY-MM-DD`, or an ISO-8601 instant (its day in `tz` counts). Default: the " +
            "first of the 30 days ending today.", Schema(example: "2024-01-01")),
        Query("end_date", "The last day, inclusive: `YYYY-MM-DD`, or an ISO-8601 instant. Default: today. A range covers at " +
            "most 366 days.", Schema(example: "2024-01-31")),
        Query("tz", "The IANA time zone whose calendar days the range and timeline use (days of 23 or 25 hours at daylight-saving " +
            "changes). `UTC` (the default) or one of the zones configured in `Analytics:TimeZones`; any other is a 400 naming " +
            "the served ones.", Schema(example: "Europe/Berlin", defaultValue: "UTC")),
        Query("compare", "`previous_period` adds `previousPeriod`: the same figures for as many days, ending the day before " +
            "`start_date`.", Schema(values: ["previous_period"])),
        Query("format", "`json` (the default, unless `Accept: text/csv`) or `csv`, any case.", Schema(values: ["json", "csv"])),
    ];

    /// <summary>The shared parameters, by component id.</summary>
    public static Dictionary<string, IOpenApiParameter> Components() => new(StringComparer.Ordinal)
    {
        [ActiveOnly] = Query(ActiveOnly, "Count only active products: `1`, `true` or `yes` (the default), or every undeleted " +
            "product: `0`, `false` or `no`; any case.", Schema(example: "false", defaultValue: "true")),
        [IfModifiedSince] = new OpenApiParameter
        {
            Name = IfModifiedSince,
            In = ParameterLocation.Header,
            Description = "An HTTP date: 304 when the figures have not changed since (`Last-Modified` of an earlier answer).",
            Schema = Schema(example: "Tue, 02 Dec 2025 10:00:00 GMT"),
        },
        [IfNoneMatch] = new OpenApiParameter
        {
            Name = IfNoneMatch,
            In = ParameterLocation.Header,
            Description = "The `ETag` of an earlier answer (or `*`): 304 while the answer is the same.",
            Schema = Schema(),
        },
        [LastEventId] = new OpenApiParameter
        {
            Name = LastEventId,
            In = ParameterLocation.Header,
            Description = "Live updates only: the `id` (sequence) of the last event received, sent on reconnect. The first event " +
                "is then sent only if the answer differs from the one at that sequence.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
        },
        [MinSequence] = Query(MinSequence, "Wait until the read model has processed through this event sequence (e.g. the " +
            "`lastSequence` of a publish), at most `Projections:MinSequenceTimeout` (default 5 s), then answer; 503 with " +
            "`Retry-After` if it has not caught up by then.",
            new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" }),
    };

    private static OpenApiParameter Query(string name, string description, OpenApiSchema schema) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema };

    private static OpenApiSchema Schema(string? example = null, string? defaultValue = null, string[]? values = null) => new()
    {
        Type = JsonSchemaType.String,
        Default = defaultValue is null ? null : JsonValue.Create(defaultValue),
        Examples = example is null ? null : [JsonValue.Create(example)],
        Enum = values?.Select(v => (JsonNode)JsonValue.Create(v)).ToList(),
    };
}

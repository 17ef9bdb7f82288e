using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using static Projections.OpenApi.ApiOperations;

namespace Projections.OpenApi;

/// <summary>
/// The document as a whole: its info, the shared components (bodies, headers, parameters, answers, the bearer scheme),
/// the routes the generator does not see (health checks, the Prometheus scrape), tags, and a stable order, so that the
/// served document is the checked-in docs/openapi.json wherever and on whatever port the service runs.
/// </summary>
internal static class ApiDocument
{
    public const string BearerScheme = "bearer";
    public const string Unauthorized = "Unauthorized";
    public const string Forbidden = "Forbidden";

    /// <summary>The tags, in the order a reader meets them.</summary>
    private static readonly (string Name, string Description)[] Tags =
    [
        ("Metrics", "The Metrics API: counts and revenue for the admin and staff dashboards."),
        ("Analytics", "The Admin Analytics API: gallery-wide sales, artists, carts and referrals over a date range."),
        ("Ingest", "Publishing events (the v1 contract, docs/events-v1.md)."),
        ("Operations", "Projections' status, rebuilds without downtime, set-aside events and their replay, the Prometheus scrape."),
        ("Health", "Probes for orchestrators: anonymous, plain text."),
    ];

    public static async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellation)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Projections API",
            Version = "v1",
            Description = Overview,
        };
        // Relative, so that the document is the same whatever host and port serve it.
        document.Servers = [new OpenApiServer { Url = "/", Description = "The service that serves this document." }];

        var components = document.Components ??= new OpenApiComponents();
        ApiSchemas.AddTo(document);
        components.Headers = new Dictionary<string, IOpenApiHeader>(HeaderComponents(), StringComparer.Ordinal);
        components.Parameters = ApiParameters.Components();
        components.Responses = new Dictionary<string, IOpenApiResponse>(StringComparer.Ordinal)
        {
            [Forbidden] = ProblemResponse(document, "Forbidden: the token is valid, but its role or permissions do not allow this route."),
            [Unauthorized] = ProblemResponse(document,
                "Unauthorized: no bearer token, or one that is not valid (signature, expiry, issuer, audience).", withChallenge: true),
        };
        components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A JWT signed with HS256 (`Auth:SigningKey`, as Supabase projects sign) or by an OpenID Connect " +
                    "issuer (`Auth:Authority`), with `exp`, and `iss`/`aud` when configured. The role is read from the `role` " +
                    "claim (`Auth:RoleClaim`, e.g. `app_metadata.role`), permissions from `permissions`. In Development, " +
                    "`dotnet Projections.Api.dll dev-token --role admin` mints one.",
            },
        };

        await AddRoutesOutsideApiExplorerAsync(document, context, cancellation);
        SortPaths(document);
        document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
    }

    private const string Overview =
        "Read models of the shop's events, for dashboards: the Metrics API (`/metrics/*`), the Admin Analytics API " +
        "(`/api/admin/analytics`), event ingest (`POST /api/events`) and the operators' routes.\n\n" +
        "**Auth.** Every route needs `Authorization: Bearer <JWT>` except the health probes and this document; each " +
        "operation says which roles and permissions it allows. Errors are `application/problem+json` (RFC 9457).\n\n" +
        "**Freshness.** Every read route answers with `X-Projection-Sequence`, the event sequence its read model has " +
        "processed through. After publishing, add `?min_sequence=<lastSequence>` to wait (briefly) for your events. " +
        "`ETag`/`If-None-Match` and `Last-Modified`/`If-Modified-Since` answer 304 when nothing changed; answers are " +
        "`Cache-Control: private`.\n\n" +
        "**Live updates.** The same read route with `Accept: text/event-stream` streams the answer again each time it changes " +
        "(Server-Sent Events).\n\n" +
        "**Browsers on another origin.** Origins listed in `Cors:AllowedOrigins` may call the read routes with " +
        "`Authorization`, and read `X-Projection-Sequence`, `ETag` and `Last-Modified`; no other origin is allowed.";

    private static Dictionary<string, IOpenApiHeader> HeaderComponents()
    {
        static OpenApiHeader Text(string description, string? example = null) => new()
        {
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = example,
        };
        static OpenApiHeader Seconds(string description) => new()
        {
            Description = description,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "0" },
        };

        return new Dictionary<Header, OpenApiHeader>
        {
            [Header.ProjectionSequence] = new()
            {
                Description = "The event sequence this answer reflects: the read models behind it have processed every event " +
                    "through it.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
                Required = true,
            },
            [Header.ETag] = Text("Identifies the answer's bytes; send it in `If-None-Match` for a 304 while it is unchanged.", "\"3f2a9c\""),
            [Header.LastModified] = Text("When the figures in this answer last changed (the commit of the projection batch " +
                "that last changed the read model behind it), as an HTTP date; a dashboard shows it as \"data as of\".",
                "Tue, 02 Dec 2025 10:00:00 GMT"),
            [Header.CachePrivate] = Text("`private`: the answer depends on who asks, so shared caches never keep it.", "private"),
            [Header.NoStore] = Text("`no-store`: an operator's view, never cached.", "no-store"),
            [Header.RetryAfter] = Seconds("Seconds to wait before trying again."),
            [Header.Location] = Text("The rebuild's status URL.", "/api/admin/projections/GalleryAnalytics/rebuilds/rb-0190b1c4"),
            [Header.ContentDisposition] = Text("With the CSV export only: the file name it downloads as.",
                "attachment; filename=\"gallery-analytics-2024-01-01-2024-01-31.csv\""),
            [Header.Vary] = Text("`Accept`: the JSON and the CSV answers of one URL differ.", "Accept"),
            [Header.WwwAuthenticate] = Text("The challenge: `Bearer`, or `Bearer error=\"invalid_token\"` for a token that is not valid.",
                "Bearer"),
        }.OrderBy(h => h.Key.ToString(), StringComparer.Ordinal).ToDictionary(h => h.Key.ToString(), h => (IOpenApiHeader)h.Value);
    }

    private static OpenApiResponse ProblemResponse(OpenApiDocument document, string description, bool withChallenge = false) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ApiSchemas.Problem, document) },
        },
        Headers = withChallenge
            ? new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
            {
                ["WWW-Authenticate"] = new OpenApiHeaderReference(nameof(Header.WwwAuthenticate), document),
            }
            : null,
    };

    /// <summary>
    /// Routes mapped without the API explorer (health checks, the Prometheus scrape) are described when they are mapped
    /// and known to <see cref="ApiOperations"/>.
    /// </summary>
    private static async Task AddRoutesOutsideApiExplorerAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context,
        CancellationToken cancellation)
    {
        var endpoints = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        foreach (var endpoint in endpoints)
        {
            var path = ApiDescription.Route(endpoint.RoutePattern.RawText);
            if (document.Paths.ContainsKey(path))
            {
                continue;
            }

            var operation = new OpenApiOperation();
            if (await ApiOperations.DescribeAsync(operation, "GET " + path, [.. endpoint.Metadata], document,
                    type => context.GetOrCreateSchemaAsync(type, cancellationToken: cancellation), context.ApplicationServices))
            {
                var tag = endpoint.Metadata.GetMetadata<ITagsMetadata>()?.Tags.FirstOrDefault() ?? "Operations";
                operation.Tags = new HashSet<OpenApiTagReference> { new(tag, document) };
                document.Paths[path] = new OpenApiPathItem { Operations = new() { [HttpMethod.Get] = operation } };
            }
        }
    }

    /// <summary>Paths in ordinal order, whatever order the routes were mapped in.</summary>
    private static void SortPaths(OpenApiDocument document)
    {
        var sorted = document.Paths.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        document.Paths.Clear();
        foreach (var (path, item) in sorted)
        {
            document.Paths[path] = item;
        }
    }
}

// OpenApi/: the service described for tools: the OpenAPI document at /openapi/v1.json (every route, parameter, body,
// header and the bearer scheme; checked in as docs/openapi.json) and, in Development, the Scalar reference at /docs.
// On top with Program.cs: it uses the route names, policies and wire constants of every folder, and none uses it.
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Projections.OpenApi;

/// <summary>
/// How the OpenAPI document is made: the generator's description of the endpoints, completed by transformers keyed by
/// route (<see cref="ApiOperations"/>), so that the endpoints stay free of documentation calls.
/// </summary>
public static partial class ApiDescription
{
    public const string DocumentPath = "/openapi/v1.json";

    public static WebApplicationBuilder AddProjectionsOpenApi(this WebApplicationBuilder builder)
    {
        // A lambda, not a method group: the generator that adds the XML comments' descriptions intercepts only this form.
        builder.Services.AddOpenApi(options => Configure(options));
        return builder;
    }

    private static void Configure(OpenApiOptions options)
    {
        // The benchmark's routes exist only for ops/bench (Benchmark:Enabled): no part of the API.
        options.ShouldInclude = description => !description.ActionDescriptor.EndpointMetadata.OfType<ITagsMetadata>()
            .Any(t => t.Tags.Contains("Benchmark"));
        options.AddSchemaTransformer(GeneratedSchemaAsWritten);
        options.AddOperationTransformer(async (operation, context, cancellation) =>
        {
            var description = context.Description;
            await ApiOperations.DescribeAsync(operation, $"{description.HttpMethod} {Route(description.RelativePath)}",
                description.ActionDescriptor.EndpointMetadata, context.Document!,
                type => context.GetOrCreateSchemaAsync(type, cancellationToken: cancellation), context.ApplicationServices);
        });
        options.AddDocumentTransformer(ApiDocument.TransformAsync);
    }

    /// <summary>In Development, the interactive API reference (Scalar) at <c>/docs</c>, reading <see cref="DocumentPath"/>.</summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            // The page and its script are served from the package; nothing of it talks to an outside service (fonts,
            // telemetry, Scalar's AI agent, or the toolbar that would share the document with Scalar's cloud).
            app.MapScalarApiReference("/docs", options => options
                    .WithTitle("Projections API")
                    .WithOpenApiRoutePattern(DocumentPath)
                    .AddPreferredSecuritySchemes(ApiDocument.BearerScheme)
                    .DisableDefaultFonts()
                    .DisableTelemetry()
                    .DisableAgent()
                    .HideDeveloperTools())
                .AllowAnonymous();
        }

        return app;
    }

    /// <summary>
    /// Schemas the generator made from types, as the service writes them: a number is a JSON number (the generator also
    /// allows a string, since the web serializer <em>reads</em> numbers from strings; it never writes one), an object in a
    /// nullable property may be null (the generator marks only strings and values so), and a description from an XML
    /// comment is one line.
    /// </summary>
    private static Task GeneratedSchemaAsWritten(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellation)
    {
        if (context.JsonPropertyInfo is { IsGetNullable: true } && schema.Type is { } objectType && objectType.HasFlag(JsonSchemaType.Object))
        {
            schema.Type = objectType | JsonSchemaType.Null;
        }

        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.String)
            && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        if (schema.Description is { } text)
        {
            schema.Description = LineBreaks().Replace(text, " ");
        }

        return Task.CompletedTask;
    }

    /// <summary>A route as <see cref="ApiOperations"/> knows it: <c>/a/{id}</c> for <c>a/{id:guid}/</c>.</summary>
    internal static string Route(string? pattern) => "/" + RouteConstraints().Replace(pattern ?? "", "{$1}").Trim('/');

    [GeneratedRegex(@"\{([^}:=?]+)[^}]*\}")]
    private static partial Regex RouteConstraints();

    [GeneratedRegex(@"\s*\n\s*")]
    internal static partial Regex LineBreaks();
}

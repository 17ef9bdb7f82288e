using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Projections.Tests.OpenApi;

/// <summary>
/// Checks a real JSON body against a schema of the served OpenAPI document, recursively: the JSON type (an
/// <c>integer</c> is a number written without a fraction or exponent), every required property present, no property the
/// schema does not name (unless it describes a map with <c>additionalProperties</c>), enums, item counts, minimums and the
/// date formats. The keywords the document uses, and only those: any other fails the check instead of passing unread.
/// </summary>
public sealed partial class SchemaCheck(JsonNode document)
{
    private static readonly HashSet<string> Known =
    [
        "$ref", "type", "format", "description", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
        "enum", "minimum", "oneOf", "examples", "default",
    ];

    /// <summary>Every way <paramref name="value"/> differs from <paramref name="schema"/>, each with its JSON path.</summary>
    public List<string> Problems(JsonElement value, JsonNode schema, string path = "$")
    {
        var problems = new List<string>();
        Check(value, schema, path, problems);
        return problems;
    }

    /// <summary>The schema a <c>$ref</c> points at (<c>#/components/…</c>), or the schema itself.</summary>
    public JsonNode Resolve(JsonNode schema)
    {
        while (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            var target = document;
            foreach (var part in reference.TrimStart('#', '/').Split('/'))
            {
                target = target[part.Replace("~1", "/").Replace("~0", "~")] ?? throw new InvalidOperationException($"Unresolved {reference}");
            }

            schema = target;
        }

        return schema;
    }

    private void Check(JsonElement value, JsonNode schema, string path, List<string> problems)
    {
        schema = Resolve(schema);
        foreach (var keyword in schema.AsObject().Select(p => p.Key).Where(k => !Known.Contains(k)))
        {
            problems.Add($"{path}: the schema uses '{keyword}', which this check does not read");
        }

        if (schema["oneOf"] is JsonArray choices)
        {
            var matching = choices.Count(choice => Problems(value, choice!, path).Count == 0);
            if (matching != 1)
            {
                problems.Add($"{path}: matches {matching} of the oneOf schemas, not exactly one");
            }

            return;
        }

        var types = schema["type"] switch
        {
            JsonArray array => array.Select(t => t!.GetValue<string>()).ToList(),
            JsonValue one => [one.GetValue<string>()],
            _ => null,
        };
        if (types is not null && !types.Any(t => Is(value, t)))
        {
            problems.Add($"{path}: {Describe(value)} where the document says {string.Join(" or ", types)}");
            return;
        }

        if (schema["enum"] is JsonArray values && !values.Any(v => JsonNode.DeepEquals(v, JsonNode.Parse(value.GetRawText()))))
        {
            problems.Add($"{path}: {value.GetRawText()} is not one of {values.ToJsonString()}");
        }

        if (schema["minimum"] is { } minimum && value.ValueKind == JsonValueKind.Number
            && value.GetDecimal() < decimal.Parse(minimum.ToString(), CultureInfo.InvariantCulture))
        {
            problems.Add($"{path}: {value.GetRawText()} is below the minimum {minimum}");
        }

        if (value.ValueKind == JsonValueKind.String && schema["format"]?.GetValue<string>() is { } format && !HasFormat(value.GetString()!, format))
        {
            problems.Add($"{path}: \"{value.GetString()}\" is not a {format}");
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = schema["properties"]?.AsObject();
                var map = schema["additionalProperties"];
                foreach (var property in value.EnumerateObject())
                {
                    if (properties?[property.Name] is { } propertySchema)
                    {
                        Check(property.Value, propertySchema, $"{path}.{property.Name}", problems);
                    }
                    else if (map is not null)
                    {
                        Check(property.Value, map, $"{path}.{property.Name}", problems);
                    }
                    else
                    {
                        problems.Add($"{path}.{property.Name}: in the body, not in the document");
                    }
                }

                foreach (var required in schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [])
                {
                    if (!value.TryGetProperty(required, out _))
                    {
                        problems.Add($"{path}.{required}: required by the document, missing from the body");
                    }
                }

                break;
            case JsonValueKind.Array:
                var count = value.GetArrayLength();
                if ((schema["minItems"]?.GetValue<int>() is { } min && count < min) || (schema["maxItems"]?.GetValue<int>() is { } max && count > max))
                {
                    problems.Add($"{path}: {count} items, outside the document's bounds");
                }

                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (schema["items"] is { } items)
                    {
                        Check(item, items, $"{path}[{index}]", problems);
                    }

                    index++;
                }

                break;
        }
    }

    private static bool Is(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && IntegerText().IsMatch(value.GetRawText()),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new InvalidOperationException($"Unknown JSON type '{type}'"),
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        _ => $"a {value.ValueKind.ToString().ToLowerInvariant()}",
    };

    private static bool HasFormat(string text, string format) => format switch
    {
        "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "date-time" => DateTimeRfc3339().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "uuid" => Guid.TryParseExact(text, "D", out _),
        _ => true,
    };

    [GeneratedRegex(@"^-?\d+$")]
    private static partial Regex IntegerText();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex DateTimeRfc3339();
}

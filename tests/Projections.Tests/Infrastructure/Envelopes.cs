using System.Text.Json.Nodes;

namespace Projections.Tests.Infrastructure;

/// <summary>Builds v1 wire envelopes for tests.</summary>
public static class Envelopes
{
    public static JsonObject Of(string type, JsonObject data, DateTimeOffset? occurredAt = null, Guid? id = null) => new()
    {
        ["id"] = (id ?? Guid.NewGuid()).ToString(),
        ["type"] = type,
        ["occurredAt"] = (occurredAt ?? new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.Zero)).ToString("yyyy-MM-ddTHH:mm:ssZ"),
        ["data"] = data,
    };
}

/// <summary>The fields of a problem+json body the tests read.</summary>
public sealed record ProblemBody(string? Title, int Status, string? Detail);

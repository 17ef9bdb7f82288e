using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Projections.Bench.Bare;

/// <summary>One measured route's answer: its body, its Content-Type and the headers the service adds.</summary>
public sealed record CeilingAnswer(string Path, string BodyFile, string ContentType, IReadOnlyList<string> Headers);

/// <summary>
/// The ceiling: the measured routes' answers as constant bytes, each to a request for its own path and query. What
/// Kestrel alone costs on this machine for the same bytes on the wire, so the service's ratio to it is what its own
/// pipeline costs. One lookup of the request's path and query is all it does besides writing.
/// </summary>
public static class Ceiling
{
    /// <param name="manifest">A JSON array of <see cref="CeilingAnswer"/> (headers as <c>Name: value</c>, not those Kestrel
    /// writes itself).</param>
    public static RequestDelegate Handler(string manifest)
    {
        var answers = JsonSerializer.Deserialize<List<CeilingAnswer>>(File.ReadAllText(manifest), JsonSerializerOptions.Web)!
            .ToDictionary(a => a.Path, a => (Body: File.ReadAllBytes(a.BodyFile), a.ContentType,
                Headers: a.Headers.Select(h => h.Split(':', 2)).Select(h => (Name: h[0].Trim(), Value: new StringValues(h[1].Trim()))).ToList()),
                StringComparer.Ordinal);
        return context =>
        {
            var response = context.Response;
            if (!answers.TryGetValue(context.Request.Path.Value + context.Request.QueryString.Value, out var answer))
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            response.ContentType = answer.ContentType;
            response.ContentLength = answer.Body.Length;
            foreach (var (name, value) in answer.Headers)
            {
                response.Headers[name] = value;
            }

            return response.Body.WriteAsync(answer.Body).AsTask();
        };
    }
}

using Microsoft.Extensions.Primitives;

namespace Projections.Bench.Bare;

/// <summary>
/// The ceiling: a measured route's answer (its body, its Content-Type and the headers the service adds) as constant
/// bytes, to any request. What Kestrel alone costs on this machine for the same bytes on the wire, so the service's
/// ratio to it is what its own pipeline costs.
/// </summary>
public static class Ceiling
{
    /// <param name="body">The answer's body.</param>
    /// <param name="contentType">Its Content-Type.</param>
    /// <param name="headers">The other headers of the answer, as <c>Name: value</c> (not those Kestrel writes itself).</param>
    public static RequestDelegate Handler(byte[] body, string contentType, IReadOnlyList<string> headers)
    {
        var fixedHeaders = headers.Select(h => h.Split(':', 2)).Select(h => (Name: h[0].Trim(), Value: new StringValues(h[1].Trim()))).ToList();
        return context =>
        {
            var response = context.Response;
            response.ContentType = contentType;
            response.ContentLength = body.Length;
            foreach (var (name, value) in fixedHeaders)
            {
                response.Headers[name] = value;
            }

            return response.Body.WriteAsync(body).AsTask();
        };
    }
}

namespace Projections.Hosting;

/// <summary>The one way this service answers errors: <c>application/problem+json</c> (RFC 9457).</summary>
public static class Problems
{
    public static IResult Result(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail, extensions: extensions);

    public static IResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        Result(StatusCodes.Status400BadRequest, "Bad request", detail, extensions);

    public static Task Write(HttpContext context, int status, string title, string detail) =>
        Result(status, title, detail).ExecuteAsync(context);

    /// <summary>At most this many characters of a rejected value are quoted in a problem.</summary>
    private const int QuoteLength = 64;

    /// <summary>A rejected value as a problem may quote it: shortened, and with what is not printable escaped.</summary>
    public static string Quote(string text)
    {
        var shortened = text.Length > QuoteLength ? text[..QuoteLength] + "…" : text;
        var quoted = new System.Text.StringBuilder(shortened.Length);
        foreach (var c in shortened)
        {
            quoted.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return quoted.ToString();
    }
}

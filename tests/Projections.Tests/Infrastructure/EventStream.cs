using System.Text;

namespace Projections.Tests.Infrastructure;

/// <summary>One thing a Server-Sent Events stream sent: an event (id, type, data) or a comment line.</summary>
public sealed record StreamMessage(string? Id, string? Event, string? Data, string? Comment, TimeSpan At);

/// <summary>Reads a Server-Sent Events response as a browser's parser would: lines up to a blank line make a message.</summary>
public sealed class EventStream(HttpResponseMessage response, Stream body) : IAsyncDisposable
{
    private readonly StreamReader _reader = new(body, Encoding.UTF8);
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private Task<string?>? _pending;

    public HttpResponseMessage Response { get; } = response;

    public static async Task<EventStream> OpenAsync(HttpClient client, string url, string token, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new EventStream(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next message, or null when the stream ended; fails the test when nothing came in time.</summary>
    public async Task<StreamMessage?> NextAsync(TimeSpan timeout)
    {
        string? id = null, type = null, comment = null;
        var data = new List<string>();
        using var cancellation = new CancellationTokenSource(timeout);
        while (true)
        {
            _pending ??= _reader.ReadLineAsync();
            var line = await _pending.WaitAsync(cancellation.Token);
            _pending = null;
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (id is null && type is null && data.Count == 0 && comment is null)
                {
                    continue;
                }

                return new StreamMessage(id, type, data.Count == 0 ? null : string.Join('\n', data), comment, _clock.Elapsed);
            }

            if (line.StartsWith(':'))
            {
                comment = line[1..].Trim();
                continue;
            }

            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data.Add(value); break;
            }
        }
    }

    /// <summary>The next event, skipping comments.</summary>
    public async Task<StreamMessage?> NextEventAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var message = await NextAsync(deadline - DateTime.UtcNow);
            if (message is null || message.Comment is null || message.Data is not null)
            {
                return message;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Response.Dispose();
        _reader.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Projections.Hosting;

namespace Projections.ReadModels;

/// <summary>
/// Live updates of the read routes as Server-Sent Events (<c>shared/contract/reads.md</c>). Streams of the same answer
/// (the same <see cref="ReadQuery.Key"/>) form one group: a single loop looks at each group at most every 100 ms and
/// at most once per <see cref="ReadSettings.StreamInterval"/> after its last update, takes the answer from the read
/// model cache (rendered once, whoever else asks) and hands new bytes to every stream of the group. A stream with
/// nothing to send waits on its own one-slot mailbox and costs no work; it sends a comment line every
/// <see cref="ReadSettings.KeepAliveInterval"/>, and ends when its token expires or the service stops.
/// </summary>
public sealed class ReadStreams : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] KeepAlive = ": keep-alive\n\n"u8.ToArray();

    private readonly IServiceProvider _services;
    private readonly ReadSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILogger<ReadStreams> _logger;
    private readonly ConcurrentDictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _open;
    private int _disposed;

    public ReadStreams(IServiceProvider services, IOptions<ReadSettings> settings, TimeProvider clock, IMeterFactory meters, ILogger<ReadStreams> logger)
    {
        (_services, _settings, _clock, _logger) = (services, settings.Value, clock, logger);
        meters.Create(Telemetry.Name).CreateObservableGauge("projections.read_streams", () => _open, "{stream}",
            "Live update streams open on this node.");
    }

    /// <summary>Streams open on this node now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Answers the request with a live stream of <paramref name="query"/>'s answer.</summary>
    public async Task<IResult> ServeAsync(HttpContext context, Func<ReadQuery> query, long minSequence)
    {
        if (Interlocked.Increment(ref _open) > _settings.MaxStreams)
        {
            Interlocked.Decrement(ref _open);
            context.Response.Headers.RetryAfter = "5";
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Too many live streams",
                $"This node holds its limit of {_settings.MaxStreams} live streams (Reads:MaxStreams); retry shortly, " +
                "at another node, or read without Accept: text/event-stream.");
        }

        Subscriber? subscriber = null;
        try
        {
            using var ends = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            if (Expiry(context) is { } expires)
            {
                // The token's own end: the stream is authorized no longer than a request with it would be.
                var left = expires - _clock.GetUtcNow();
                if (left <= TimeSpan.Zero)
                {
                    return Results.Unauthorized();
                }

                ends.CancelAfter(left);
            }

            var read = query();
            var (first, _) = await ReadModelEndpoint.AnswerAsync(context.RequestServices, read, minSequence, allowPrevious: false, ends.Token);
            subscriber = Subscribe(read, query, first);

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ReadModelEndpoint.EventStream;
            response.Headers.CacheControl = "no-cache";
            response.Headers[ReadModelEndpoint.SequenceHeader] = first.Sequence.ToString(CultureInfo.InvariantCulture);
            // Proxies that buffer (nginx) pass events on at once.
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await response.StartAsync(ends.Token);

            // Reconnecting: the first event only when the answer differs from the one the client had.
            string? sent = null;
            if (long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var lastId)
                && _services.GetRequiredService<ReadModelCache>().Answered(read.Key, lastId, first.ETag))
            {
                sent = first.ETag;
            }

            var lastWrite = _clock.GetTimestamp();
            var lastEvent = 0L;
            if (sent is null)
            {
                await WriteEventAsync(response, first, ends.Token);
                (sent, lastEvent) = (first.ETag, lastWrite);
            }
            else
            {
                await response.Body.FlushAsync(ends.Token);
            }

            var mailbox = subscriber.Updates.Reader;
            Task<bool>? waiting = null;
            while (true)
            {
                waiting ??= mailbox.WaitToReadAsync(ends.Token).AsTask();
                var quiet = _clock.GetElapsedTime(lastWrite);
                if (quiet >= _settings.KeepAliveInterval)
                {
                    await response.Body.WriteAsync(KeepAlive, ends.Token);
                    await response.Body.FlushAsync(ends.Token);
                    lastWrite = _clock.GetTimestamp();
                    continue;
                }

                using (var timer = CancellationTokenSource.CreateLinkedTokenSource(ends.Token))
                {
                    var keepAlive = Task.Delay(_settings.KeepAliveInterval - quiet, _clock, timer.Token);
                    var woke = await Task.WhenAny(waiting, keepAlive);
                    await timer.CancelAsync();
                    if (woke != waiting)
                    {
                        ends.Token.ThrowIfCancellationRequested();
                        continue;
                    }
                }

                if (!await waiting)
                {
                    break;
                }

                waiting = null;
                // Never more often than the interval, whatever the group did while this stream was writing.
                var since = lastEvent == 0 ? _settings.StreamInterval : _clock.GetElapsedTime(lastEvent);
                if (since < _settings.StreamInterval)
                {
                    await Task.Delay(_settings.StreamInterval - since, _clock, ends.Token);
                }

                if (mailbox.TryRead(out var update) && update.ETag != sent)
                {
                    await WriteEventAsync(response, update, ends.Token);
                    sent = update.ETag;
                    lastWrite = lastEvent = _clock.GetTimestamp();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException || context.RequestAborted.IsCancellationRequested)
        {
            // The client left, the token expired or the service stops: the stream ends.
        }
        finally
        {
            if (subscriber is not null)
            {
                Unsubscribe(subscriber);
            }

            Interlocked.Decrement(ref _open);
        }

        return Results.Empty;
    }

    /// <summary>The token's expiry (its <c>exp</c> claim), when it has one.</summary>
    private static DateTimeOffset? Expiry(HttpContext context) =>
        long.TryParse(context.User.FindFirst("exp")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : null;

    /// <summary><c>id</c>, <c>event: update</c> and the answer as <c>data</c> (a JSON answer is one line; each line of
    /// another is a <c>data</c> line of its own, which clients join with newlines).</summary>
    private static async Task WriteEventAsync(HttpResponse response, CachedResponse answer, CancellationToken cancellation)
    {
        var text = new StringBuilder(answer.Body.Length + 64)
            .Append("id: ").Append(answer.Sequence.ToString(CultureInfo.InvariantCulture)).Append("\nevent: update\n");
        foreach (var line in Encoding.UTF8.GetString(answer.Body).TrimEnd('\n').Split('\n'))
        {
            text.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
        }

        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text.Append('\n').ToString()), cancellation);
        await response.Body.FlushAsync(cancellation);
    }

    private Subscriber Subscribe(ReadQuery read, Func<ReadQuery> query, CachedResponse current)
    {
        // An answer that depends on the date is re-resolved on every look; it shares a group only with its own kind.
        var id = read.ValidFrom is null ? read.Key : read.Key + "@today";
        while (true)
        {
            var group = _groups.GetOrAdd(id, static (id, query) => new Group(id, query), query);
            lock (group)
            {
                if (!group.Closed)
                {
                    group.Last ??= current;
                    var subscriber = new Subscriber(group);
                    group.Subscribers.Add(subscriber);
                    return subscriber;
                }
            }
        }
    }

    private void Unsubscribe(Subscriber subscriber)
    {
        var group = subscriber.Group;
        lock (group)
        {
            group.Subscribers.Remove(subscriber);
            if (group.Subscribers.Count == 0)
            {
                group.Closed = true;
                _groups.TryRemove(new KeyValuePair<string, Group>(group.Id, group));
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var stop = stoppingToken.Register(_stopping.Cancel);
        using var timer = new PeriodicTimer(Tick < _settings.StreamInterval ? Tick : _settings.StreamInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var due = _groups.Values.Where(g => _clock.GetElapsedTime(g.UpdatedAt) >= _settings.StreamInterval).ToList();
                if (due.Count > 0)
                {
                    await Task.WhenAll(due.Select(g => LookAsync(g, stoppingToken)));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Takes the group's answer now, and hands it to every stream of the group when its bytes changed.</summary>
    private async Task LookAsync(Group group, CancellationToken cancellation)
    {
        try
        {
            var (answer, _) = await ReadModelEndpoint.AnswerAsync(_services, group.Query(), 0, allowPrevious: false, cancellation);
            if (ReferenceEquals(answer, group.Last) || answer.ETag == group.Last?.ETag)
            {
                group.Last = answer;
                return;
            }

            group.Last = answer;
            group.UpdatedAt = _clock.GetTimestamp();
            Subscriber[] subscribers;
            lock (group)
            {
                subscribers = [.. group.Subscribers];
            }

            foreach (var subscriber in subscribers)
            {
                subscriber.Updates.Writer.TryWrite(answer);
            }
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            // The database is away: the streams stay open with what they have, and the next look tries again.
            _logger.LogWarning(e, "Could not look up the answer of a live stream");
        }
    }

    /// <summary>Ends every stream (the container may call this more than once: the service is also a hosted service).</summary>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
            base.Dispose();
        }
    }

    private sealed class Group(string id, Func<ReadQuery> query)
    {
        public string Id { get; } = id;
        public Func<ReadQuery> Query { get; } = query;
        public HashSet<Subscriber> Subscribers { get; } = [];
        public bool Closed { get; set; }
        public CachedResponse? Last { get; set; }
        public long UpdatedAt { get; set; }
    }

    private sealed class Subscriber(Group group)
    {
        public Group Group { get; } = group;

        /// <summary>The latest answer not yet sent; a newer one replaces it.</summary>
        public Channel<CachedResponse> Updates { get; } = Channel.CreateBounded<CachedResponse>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
    }
}

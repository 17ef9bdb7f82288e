using Projections.Hosting;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Projections.Ingest;

/// <summary>A valid envelope: its publisher-chosen id, its internal event and the entity stream it goes to.</summary>
public sealed record Envelope(Guid Id, EventType Type, DateTimeOffset OccurredAt, object Event, string StreamKey);

/// <summary>What is wrong with one envelope of a batch (the <c>errors</c> of a 400 answer).</summary>
public sealed record EnvelopeError(int Index, string? Id, string Error);

/// <summary>
/// Parses and validates a request body: a JSON array of 1 to 1000 envelopes, or a single envelope object.
/// Either every envelope is valid, or the batch is rejected with the list of every bad envelope.
/// </summary>
public static partial class EnvelopeBatch
{
    public const int MaxEnvelopes = 1000;

    public abstract record Result;
    public sealed record Valid(IReadOnlyList<Envelope> Envelopes) : Result;
    public sealed record Malformed(string Detail) : Result;
    public sealed record Invalid(IReadOnlyList<EnvelopeError> Errors) : Result;

    // ISO-8601 date and time with an explicit offset or Z (an instant, not a local time).
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}:?\d{2})$")]
    private static partial Regex InstantPattern();

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        MaxDepth = Limits.MaxDepth,
        // A field given twice means two different things to two JSON readers: refuse it rather than pick one.
        AllowDuplicateProperties = false,
    };

    /// <param name="body">The request body (or the queued message's text), as UTF-8.</param>
    /// <param name="now">The service's clock: an <c>occurredAt</c> may be at most 24 hours ahead of it.</param>
    public static Result Parse(ReadOnlyMemory<byte> body, DateTimeOffset now)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, JsonOptions);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a field name that is not valid UTF-16, met while looking for duplicates.
            return new Malformed($"The body is not valid JSON (at most {Limits.MaxDepth} levels deep, each field once, valid text): {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    return Collect([root], now);
                case JsonValueKind.Array:
                    var count = root.GetArrayLength();
                    if (count is 0 or > MaxEnvelopes)
                    {
                        return new Malformed($"A batch holds 1 to {MaxEnvelopes} envelopes; this one has {count}.");
                    }

                    return Collect(root.EnumerateArray().ToList(), now);
                default:
                    return new Malformed("The body must be an envelope object or an array of 1 to 1000 envelopes.");
            }
        }
    }

    private static Result Collect(IReadOnlyList<JsonElement> elements, DateTimeOffset now)
    {
        var envelopes = new List<Envelope>(elements.Count);
        var errors = new List<EnvelopeError>();
        for (var index = 0; index < elements.Count; index++)
        {
            var (envelope, error) = Read(index, elements[index], now);
            if (error is not null)
            {
                errors.Add(error);
            }
            else
            {
                envelopes.Add(envelope!);
            }
        }

        return errors.Count > 0 ? new Invalid(errors) : new Valid(envelopes);
    }

    private static (Envelope?, EnvelopeError?) Read(int index, JsonElement element, DateTimeOffset now)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, new EnvelopeError(index, null, "the envelope must be a JSON object"));
        }

        var problems = new List<string>();
        if (!Limits.CheckStrings(element, "", problems))
        {
            return (null, new EnvelopeError(index, null, Summarize(problems)));
        }

        string? rawId = null;
        var id = Guid.Empty;
        if (!element.TryGetProperty("id", out var idElement) || idElement.ValueKind == JsonValueKind.Null)
        {
            problems.Add("id is required (a UUID)");
        }
        else if (idElement.ValueKind != JsonValueKind.String || !Guid.TryParse(rawId = Limits.SafeString(idElement), out id))
        {
            rawId = Problems.Quote(idElement.ValueKind == JsonValueKind.String ? rawId ?? "" : idElement.GetRawText());
            problems.Add("id must be a UUID");
        }

        EventType? type = null;
        if (!element.TryGetProperty("type", out var typeElement) || typeElement.ValueKind == JsonValueKind.Null)
        {
            problems.Add("type is required");
        }
        else if (typeElement.ValueKind != JsonValueKind.String)
        {
            problems.Add("type must be a string");
        }
        else if (Limits.SafeString(typeElement) is not { } typeName || !EventContract.ByName.TryGetValue(typeName, out type))
        {
            problems.Add($"unknown event type '{Problems.Quote(Limits.SafeString(typeElement) ?? "")}'");
        }

        var occurredAt = default(DateTimeOffset);
        if (!element.TryGetProperty("occurredAt", out var atElement) || atElement.ValueKind == JsonValueKind.Null)
        {
            problems.Add("occurredAt is required (an ISO-8601 instant with offset or Z)");
        }
        else if (atElement.ValueKind != JsonValueKind.String
                 || Limits.SafeString(atElement) is not { } atText
                 || !InstantPattern().IsMatch(atText)
                 || !DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.None, out occurredAt))
        {
            problems.Add("occurredAt must be an ISO-8601 instant with offset or Z, e.g. 2024-01-05T14:03:11Z");
        }
        else if (occurredAt < Limits.EarliestOccurredAt || occurredAt > now + Limits.OccurredAtAhead)
        {
            problems.Add($"occurredAt must be from {Limits.EarliestOccurredAt:yyyy-MM-ddTHH:mm:ssZ} to 24 hours after the service's clock " +
                         $"({(now + Limits.OccurredAtAhead).ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}), not {Problems.Quote(atText)}");
        }

        object? @event = null;
        if (!element.TryGetProperty("data", out var data) || data.ValueKind == JsonValueKind.Null)
        {
            problems.Add("data is required (an object)");
        }
        else if (data.ValueKind != JsonValueKind.Object)
        {
            problems.Add("data must be an object");
        }
        else if (type is not null)
        {
            var reader = new DataReader(data);
            @event = type.Read(reader, occurredAt.ToUniversalTime());
            problems.AddRange(reader.Errors);
        }

        if (problems.Count > 0)
        {
            return (null, new EnvelopeError(index, rawId, Summarize(problems)));
        }

        return (new Envelope(id, type!, occurredAt, @event!, type!.StreamKey(@event!)), null);
    }

    /// <summary>Every problem of an envelope in one line, at most <see cref="MaxProblems"/> of them.</summary>
    private static string Summarize(List<string> problems) => problems.Count <= MaxProblems
        ? string.Join("; ", problems)
        : string.Join("; ", problems.Take(MaxProblems)) + $"; and {problems.Count - MaxProblems} more";

    private const int MaxProblems = 20;
}

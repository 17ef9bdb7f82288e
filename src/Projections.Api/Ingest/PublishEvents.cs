using System.Text;
using Wolverine.Attributes;

namespace Projections.Ingest;

/// <summary>
/// The queue's message: exactly the body a publisher would <c>POST</c> to <c>/api/events</c> (an array of 1 to 1000
/// envelopes, or one envelope), as JSON text. Publishers declare their own copy of this record; Wolverine matches it by
/// the message type name <see cref="TypeName"/>, not by CLR type.
/// </summary>
[MessageIdentity(TypeName)]
public sealed record PublishEvents(string Envelopes)
{
    public const string TypeName = "projections.publish-events";
}

/// <summary>
/// Handles <see cref="PublishEvents"/> from the queue like <c>POST /api/events</c> handles a body: the same validation,
/// then the same atomic, idempotent append. A batch that cannot be valid however often it is retried throws
/// <see cref="InvalidEnvelopesException"/>, which sends the message to the dead letters (see QueueSetup).
/// </summary>
public static class PublishEventsHandler
{
    public static async Task Handle(PublishEvents message, EventIngestor ingestor, TimeProvider clock, ILogger<PublishEvents> logger,
        CancellationToken cancellation)
    {
        if (message.Envelopes is null)
        {
            throw new InvalidEnvelopesException("The message has no envelopes; nothing was stored.");
        }

        switch (EnvelopeBatch.Parse(Encoding.UTF8.GetBytes(message.Envelopes), clock.GetUtcNow()))
        {
            case EnvelopeBatch.Malformed malformed:
                throw new InvalidEnvelopesException($"{malformed.Detail} Nothing of this batch was stored.");
            case EnvelopeBatch.Invalid invalid:
                throw new InvalidEnvelopesException(
                    $"{invalid.Errors.Count} envelope(s) are invalid; nothing of this batch was stored. "
                    + string.Join(" | ", invalid.Errors.Select(e => $"[{e.Index}]{(e.Id is null ? "" : $" id {e.Id}")}: {e.Error}")));
            case EnvelopeBatch.Valid valid:
                var receipt = await ingestor.AppendAsync(valid.Envelopes, cancellation);
                logger.LogDebug("Queued batch stored: {Accepted} new, {Duplicates} duplicates, last sequence {LastSequence}",
                    receipt.Accepted, receipt.Duplicates, receipt.LastSequence);
                break;
            default:
                throw new InvalidOperationException("Unexpected parse result");
        }
    }
}

/// <summary>A queued batch that is malformed or holds invalid envelopes; the message says what is wrong with each.</summary>
public sealed class InvalidEnvelopesException(string message) : Exception(message);

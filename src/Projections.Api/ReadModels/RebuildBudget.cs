namespace Projections.ReadModels;

/// <summary>
/// The memory one node's rebuilds share for the documents they hold (<c>Projections:RebuildMemory</c>). A projection with
/// few documents keeps them all; one with many may use what the others leave. Only when the node's total is over the
/// limit must a rebuild write its documents and drop some, and then only one holding at least an equal share of the
/// limit: the projections that hold the most give way, and the node comes back to half the limit.
/// </summary>
public sealed class RebuildBudget(long limit)
{
    private readonly Dictionary<string, long> _held = new(StringComparer.Ordinal);

    public long Limit { get; } = limit;

    /// <summary>Records what <paramref name="owner"/>'s rebuild holds now (0 when it holds nothing or has finished).</summary>
    public void Hold(string owner, long bytes)
    {
        lock (_held)
        {
            if (bytes > 0)
            {
                _held[owner] = bytes;
            }
            else
            {
                _held.Remove(owner);
            }
        }
    }

    /// <summary>What every rebuild on this node holds together.</summary>
    public long Total
    {
        get
        {
            lock (_held)
            {
                return _held.Values.Sum();
            }
        }
    }

    /// <summary>Whether <paramref name="owner"/>, holding <paramref name="bytes"/>, must write and drop documents now.</summary>
    public bool MustRelease(string owner, long bytes)
    {
        lock (_held)
        {
            var total = _held.Values.Sum() - _held.GetValueOrDefault(owner) + bytes;
            return total > Limit && bytes * Math.Max(1, _held.Count) >= Limit;
        }
    }

    /// <summary>What <paramref name="owner"/>, holding <paramref name="bytes"/> and having to release some, keeps: enough
    /// dropped to bring the node back to half the limit, as far as its own documents allow.</summary>
    public long KeepFor(string owner, long bytes)
    {
        lock (_held)
        {
            var others = _held.Values.Sum() - _held.GetValueOrDefault(owner);
            return Math.Clamp(Limit / 2 - others, 0, bytes);
        }
    }
}

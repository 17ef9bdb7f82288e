using System.Globalization;
using System.Text.Json;

namespace Projections.Ingest;

/// <summary>
/// The limits of the v1 contract ("Limits" in shared/contract/events-v1.md, every field in docs/events-v1.md). A value
/// outside them refuses the whole batch. Within them no figure can overflow: over 100 million events a quantity total
/// stays below 10^17 (a <c>long</c>) and a money total below 10^26 (a <c>decimal</c> holds 7.9 × 10^28).
/// </summary>
public static class Limits
{
    public static readonly DateTimeOffset EarliestOccurredAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far ahead of the service's clock an <c>occurredAt</c> may be.</summary>
    public static readonly TimeSpan OccurredAtAhead = TimeSpan.FromHours(24);

    public const decimal MaxMoney = 1_000_000_000m;
    public const int MoneyDecimals = 2;

    /// <summary>Stock figures (counted stock, adjustments, thresholds) lie within ± this.</summary>
    public const int MaxStockFigure = 1_000_000_000;

    /// <summary>A quantity that adds or removes items (order lines, cart lines, reservations) is 1 to this.</summary>
    public const int MaxItemQuantity = 1_000_000;

    public const int MaxIdLength = 128;
    public const int MaxTextLength = 256;

    /// <summary>Nesting of the request body, the batch's array counting as the first level.</summary>
    public const int MaxDepth = 16;

    /// <summary>Length in characters (Unicode scalar values), as a publisher counts them.</summary>
    public static int Length(string text)
    {
        var length = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            length++;
        }

        return length;
    }

    /// <summary>The string's value, or null when it is not valid UTF-16 (an escaped unpaired surrogate).</summary>
    public static string? SafeString(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>What is wrong with a string by the rule for every string, or null when nothing is.</summary>
    public static string? StringProblem(string? text)
    {
        if (text is null)
        {
            return "is not valid text (an unpaired surrogate)";
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c <= '\u001f' || c == '\u007f')
            {
                return $"must not contain control characters (U+{(int)c:X4} at {i})";
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"is not valid text (an unpaired surrogate at {i})";
            }
        }

        return null;
    }

    /// <summary>
    /// Every string of an envelope, keys included, checked by the rule for every string, whether or not the contract
    /// reads it: unknown fields are ignored, but not stored text that no tool downstream could read.
    /// </summary>
    /// <returns>False when a field name is not valid UTF-16: such an object cannot be searched by field name at all.</returns>
    public static bool CheckStrings(JsonElement element, string path, List<string> problems)
    {
        var readable = true;
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                if (StringProblem(SafeString(element)) is { } valueProblem)
                {
                    problems.Add($"{path} {valueProblem}");
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = SafeName(property);
                    var child = path.Length == 0 ? name ?? "?" : $"{path}.{name ?? "?"}";
                    if (StringProblem(name) is { } problem)
                    {
                        problems.Add($"a field name in {(path.Length == 0 ? "the envelope" : path)} {problem}");
                    }

                    readable &= name is not null;
                    readable &= CheckStrings(property.Value, name is null || StringProblem(name) is not null ? path + ".?" : child, problems);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    readable &= CheckStrings(item, $"{path}[{index++}]", problems);
                }

                break;
        }

        return readable;
    }

    private static string? SafeName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A JSON number read exactly from its text: its value and how many decimals it has, or false when it is too large
    /// or too precise to matter (more than 12 significant digits). Exact, unlike reading it as a double or letting a
    /// decimal round away what lies beyond its 28 digits (1e-30 would read as 0).
    /// </summary>
    public static bool TryReadNumber(JsonElement number, out decimal value, out int decimals)
    {
        (value, decimals) = (0m, 0);
        var text = number.GetRawText().AsSpan();
        var negative = text.Length > 0 && text[0] == '-';
        if (negative)
        {
            text = text[1..];
        }

        var exponentAt = text.IndexOfAny('e', 'E');
        var exponent = 0L;
        if (exponentAt >= 0)
        {
            var exponentText = text[(exponentAt + 1)..];
            // Beyond 9 digits the exponent alone makes the number far too large or too precise.
            if (!long.TryParse(exponentText.TrimStart('+'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent)
                || Math.Abs(exponent) > 999_999_999)
            {
                return false;
            }

            text = text[..exponentAt];
        }

        var point = text.IndexOf('.');
        var whole = point >= 0 ? text[..point] : text;
        var fraction = point >= 0 ? text[(point + 1)..] : ReadOnlySpan<char>.Empty;
        var digits = string.Concat(whole, fraction).TrimStart('0');
        var scale = fraction.Length - exponent; // value = digits × 10^-scale
        var significant = digits.TrimEnd('0');
        scale -= digits.Length - significant.Length;
        if (significant.Length == 0)
        {
            return true; // zero, however it is written
        }

        // More than 12 significant digits, or a magnitude of 10^13 or more, lies outside every limit: say so.
        if (significant.Length > 12 || significant.Length - scale > 13 || scale > 12)
        {
            return false;
        }

        var magnitude = decimal.Parse(significant, NumberStyles.None, CultureInfo.InvariantCulture);
        for (var s = scale; s < 0; s++)
        {
            magnitude *= 10;
        }

        value = scale > 0 ? magnitude / Pow10((int)scale) : magnitude;
        value = negative ? -value : value;
        decimals = (int)Math.Max(0, scale);
        return true;
    }

    private static decimal Pow10(int power)
    {
        var result = 1m;
        for (var i = 0; i < power; i++)
        {
            result *= 10;
        }

        return result;
    }
}

using System.Text.Json;

namespace Projections.Ingest;

/// <summary>
/// Reads the fields of an envelope's <c>data</c> object by the v1 contract's rules, collecting every violation
/// instead of stopping at the first, so one answer can name all that is wrong with an envelope.
/// </summary>
public sealed class DataReader(JsonElement data, string path = "data")
{
    private readonly List<string> _errors = [];

    public IReadOnlyList<string> Errors => _errors;

    private bool TryGet(string name, out JsonElement value)
    {
        if (data.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }

        value = default;
        return false;
    }

    private string Name(string field) => $"{path}.{field}";

    public void Fail(string message) => _errors.Add(message);

    /// <summary>A required identifier: a non-empty string of at most 128 characters.</summary>
    public string Id(string field) => OptionalId(field) ?? Missing<string>(field, "a non-empty string") ?? "";

    public string? OptionalId(string field)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }

        return String(field, value, Limits.MaxIdLength) ?? "";
    }

    /// <summary>A required display text (names): a non-empty string of at most 256 characters.</summary>
    public string Text(string field)
    {
        if (!TryGet(field, out var value))
        {
            return Missing<string>(field, "a non-empty string") ?? "";
        }

        return String(field, value, Limits.MaxTextLength) ?? "";
    }

    /// <summary>A non-empty string of at most <paramref name="maxLength"/> characters, or null (with the error noted).
    /// Control characters and unpaired surrogates are reported by <see cref="Limits.CheckStrings"/>, for every string.</summary>
    private string? String(string field, JsonElement value, int maxLength)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            Fail($"{Name(field)} must be a non-empty string");
            return null;
        }

        if (Limits.SafeString(value) is not { } s)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(s))
        {
            Fail($"{Name(field)} must be a non-empty string");
            return null;
        }

        if (Limits.Length(s) > maxLength)
        {
            Fail($"{Name(field)} must be at most {maxLength} characters, not {Limits.Length(s)}");
        }

        return s;
    }

    public bool Bool(string field, bool defaultValue)
    {
        if (!TryGet(field, out var value))
        {
            return defaultValue;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        Fail($"{Name(field)} must be true or false");
        return defaultValue;
    }

    /// <summary>Money: a JSON number from 0 to 1,000,000,000.00 with at most 2 decimals.</summary>
    public decimal Money(string field) => OptionalMoney(field) ?? Missing<decimal?>(field, "a number") ?? 0m;

    public decimal? OptionalMoney(string field)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            Fail($"{Name(field)} must be a number");
            return 0m;
        }

        if (!Limits.TryReadNumber(value, out var amount, out var decimals))
        {
            Fail($"{Name(field)} must be a number from 0 to {Limits.MaxMoney:0.00} with at most {Limits.MoneyDecimals} decimals");
            return 0m;
        }

        if (amount < 0)
        {
            Fail($"{Name(field)} must not be negative");
        }
        else if (amount > Limits.MaxMoney)
        {
            Fail($"{Name(field)} must be at most {Limits.MaxMoney:0.00}");
        }
        else if (decimals > Limits.MoneyDecimals)
        {
            Fail($"{Name(field)} must have at most {Limits.MoneyDecimals} decimals");
        }

        return amount;
    }

    /// <summary>A required integer from <paramref name="min"/> to <paramref name="max"/>; <paramref name="nonZero"/> also
    /// rejects 0.</summary>
    public int Integer(string field, int min, int max, bool nonZero = false)
    {
        if (!TryGet(field, out var value))
        {
            return Missing<int?>(field, "an integer") ?? 0;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            Fail($"{Name(field)} must be an integer");
            return 0;
        }

        if (!Limits.TryReadNumber(value, out var number, out var decimals))
        {
            Fail($"{Name(field)} must be an integer from {min} to {max}");
            return 0;
        }

        if (decimals > 0)
        {
            Fail($"{Name(field)} must be an integer");
            return 0;
        }

        if (number < min)
        {
            Fail(min == 1 ? $"{Name(field)} must be greater than 0" : $"{Name(field)} must be at least {min}");
            return 0;
        }

        if (number > max)
        {
            Fail($"{Name(field)} must be at most {max}");
            return 0;
        }

        if (nonZero && number == 0)
        {
            Fail($"{Name(field)} must not be 0");
        }

        return (int)number;
    }

    /// <summary>An ISO 4217 code (three letters), <c>USD</c> when absent; stored upper-case.</summary>
    public string Currency(string field = "currency")
    {
        if (!TryGet(field, out var value))
        {
            return "USD";
        }

        if (value.ValueKind == JsonValueKind.String && Limits.SafeString(value) is { Length: 3 } code && code.All(char.IsAsciiLetter))
        {
            return code.ToUpperInvariant();
        }

        Fail($"{Name(field)} must be a three-letter ISO 4217 currency code");
        return "USD";
    }

    /// <summary>One of the given wire values; returns the matching enum value.</summary>
    public T OneOf<T>(string field, IReadOnlyDictionary<string, T> allowed) where T : struct
    {
        if (!TryGet(field, out var value))
        {
            return Missing<T?>(field, "one of " + string.Join(", ", allowed.Keys)) ?? default;
        }

        if (value.ValueKind == JsonValueKind.String && Limits.SafeString(value) is { } name && allowed.TryGetValue(name, out var result))
        {
            return result;
        }

        Fail($"{Name(field)} must be one of {string.Join(", ", allowed.Keys)}");
        return default;
    }

    /// <summary>A required array of objects, each read by <paramref name="readItem"/>.</summary>
    public IReadOnlyList<T> Array<T>(string field, int minCount, int maxCount, Func<DataReader, T> readItem)
    {
        if (!TryGet(field, out var value))
        {
            return Missing<IReadOnlyList<T>>(field, $"an array of {minCount} to {maxCount} items") ?? [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Fail($"{Name(field)} must be an array");
            return [];
        }

        var count = value.GetArrayLength();
        if (count < minCount || count > maxCount)
        {
            Fail($"{Name(field)} must have {minCount} to {maxCount} items, not {count}");
            return [];
        }

        var items = new List<T>(count);
        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var itemPath = $"{Name(field)}[{index++}]";
            if (element.ValueKind != JsonValueKind.Object)
            {
                Fail($"{itemPath} must be an object");
                continue;
            }

            var reader = new DataReader(element, itemPath);
            items.Add(readItem(reader));
            _errors.AddRange(reader.Errors);
        }

        return items;
    }

    private T? Missing<T>(string field, string expected)
    {
        Fail($"{Name(field)} is required ({expected})");
        return default;
    }
}

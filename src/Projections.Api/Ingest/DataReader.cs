using System.Text.Json;

namespace Projections.Ingest;

/// <summary>
/// Reads the fields of an envelope's <c>data</c> object by the v1 contract's rules, collecting every violation
/// instead of stopping at the first, so one answer can name all that is wrong with an envelope.
/// </summary>
public sealed class DataReader(JsonElement data, string path = "data")
{
    public const int MaxIdLength = 128;
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

        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { } s || string.IsNullOrWhiteSpace(s))
        {
            Fail($"{Name(field)} must be a non-empty string");
            return "";
        }

        if (s.Length > MaxIdLength)
        {
            Fail($"{Name(field)} must be at most {MaxIdLength} characters");
        }

        return s;
    }

    /// <summary>A required display text (names): a non-empty string.</summary>
    public string Text(string field)
    {
        if (!TryGet(field, out var value))
        {
            return Missing<string>(field, "a non-empty string") ?? "";
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString() is not { } s || string.IsNullOrWhiteSpace(s))
        {
            Fail($"{Name(field)} must be a non-empty string");
            return "";
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

    /// <summary>Money: a JSON number, never negative, with at most 2 decimals.</summary>
    public decimal Money(string field) => OptionalMoney(field) ?? Missing<decimal?>(field, "a number") ?? 0m;

    public decimal? OptionalMoney(string field)
    {
        if (!TryGet(field, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var amount))
        {
            Fail($"{Name(field)} must be a number");
            return 0m;
        }

        if (amount < 0)
        {
            Fail($"{Name(field)} must not be negative");
        }
        else if (decimal.Round(amount, 2) != amount)
        {
            Fail($"{Name(field)} must have at most 2 decimals");
        }

        return amount;
    }

    /// <summary>A required integer of at least <paramref name="min"/>; <paramref name="nonZero"/> also rejects 0.</summary>
    public int Integer(string field, int? min = null, bool nonZero = false)
    {
        if (!TryGet(field, out var value))
        {
            return Missing<int?>(field, "an integer") ?? 0;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            Fail($"{Name(field)} must be an integer");
            return 0;
        }

        if (min is { } lowest && number < lowest)
        {
            Fail(lowest == 1 ? $"{Name(field)} must be greater than 0" : $"{Name(field)} must be at least {lowest}");
        }

        if (nonZero && number == 0)
        {
            Fail($"{Name(field)} must not be 0");
        }

        return number;
    }

    /// <summary>An ISO 4217 code (three letters), <c>USD</c> when absent; stored upper-case.</summary>
    public string Currency(string field = "currency")
    {
        if (!TryGet(field, out var value))
        {
            return "USD";
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: 3 } code && code.All(char.IsAsciiLetter))
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

        if (value.ValueKind == JsonValueKind.String && allowed.TryGetValue(value.GetString()!, out var result))
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

namespace Projections.ReadModels;

/// <summary>Money and rates: decimal throughout, rounded half away from zero to cents, written with two decimals.</summary>
public static class Money
{
    public static decimal Round(decimal amount) => decimal.Round(amount, 2, MidpointRounding.AwayFromZero);

    /// <summary>Rounded to cents and carrying exactly two decimals (1850000 → 1850000.00) for output.</summary>
    public static decimal TwoDecimals(decimal amount) => Round(amount) + 0.00m;

    /// <summary>part / whole rounded to 2 decimals; 0 when whole is 0.</summary>
    public static decimal Ratio(decimal part, decimal whole) => whole == 0 ? 0m : Round(part / whole);

    /// <summary>part / whole × 100 rounded to 2 decimals; 0 when whole is 0.</summary>
    public static decimal Percent(decimal part, decimal whole) => whole == 0 ? 0m : Round(part * 100m / whole);
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Projections.Bench;

/// <summary>Runs wrk (Debian's package) against one URL and reads requests/s and the latency percentiles it prints.</summary>
public static partial class Wrk
{
    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Errors();

    public static async Task<ReadResult> RunAsync(string name, string url, string? token, int connections, TimeSpan duration)
    {
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-t2", $"-c{connections}", $"-d{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "--timeout", "60s" })
        {
            info.ArgumentList.Add(arg);
        }

        if (token is not null)
        {
            info.ArgumentList.Add("-H");
            info.ArgumentList.Add("Authorization: Bearer " + token);
        }

        info.ArgumentList.Add(url);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wrk failed: {await process.StandardError.ReadToEndAsync()}");
        }

        double Milliseconds(string value, string unit) =>
            double.Parse(value, CultureInfo.InvariantCulture) * unit switch { "us" => 0.001, "s" => 1000, _ => 1 };
        var percentiles = Percentile().Matches(output).ToDictionary(m => m.Groups[1].Value, m => Milliseconds(m.Groups[2].Value, m.Groups[3].Value));
        var errors = Errors().Match(output) is { Success: true } e ? long.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new ReadResult(name, new Uri(url).PathAndQuery, double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            percentiles.GetValueOrDefault("50"), percentiles.GetValueOrDefault("99"), errors);
    }
}

using System.Diagnostics;

namespace Projections.Bench;

/// <summary>The service under test, as its own process (so its memory is its own), in Benchmark mode.</summary>
public sealed class Service : IDisposable
{
    public const string SigningKey = "projections-benchmark-signing-key-0123456789";

    /// <summary>The time zone the service keeps analytics for besides UTC (the 366-day read is measured in both).</summary>
    public const string BerlinZone = "Europe/Berlin";
    private readonly Process _process;
    private readonly string _url;
    private bool _disposed;

    private Service(Process process, string url)
    {
        (_process, _url) = (process, url);
        // A benchmark stopped with Ctrl+C or SIGTERM takes its service along: a service left running would go on
        // leading the daemon on the next run's database.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        Console.CancelKeyPress += (_, _) => Stop();
    }

    private static ProcessStartInfo StartInfo(string apiDirectory, string connectionString, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = apiDirectory, UseShellExecute = false };
        info.ArgumentList.Add("Projections.Api.dll");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ConnectionStrings__Postgres"] = connectionString;
        info.Environment["Auth__SigningKey"] = SigningKey;
        info.Environment["Benchmark__Enabled"] = "true";
        // One time zone besides UTC, as a gallery outside UTC would run it: every event also fills its buckets.
        info.Environment["Analytics__TimeZones__0"] = BerlinZone;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Projections__MinSequenceTimeout"] = "00:00:05";
        return info;
    }

    public static Service Start(string apiDirectory, string connectionString, string url) =>
        new(Process.Start(StartInfo(apiDirectory, connectionString, "--urls", url))!, url);

    public async Task WaitUntilLiveAsync()
    {
        using var http = new HttpClient();
        for (var i = 0; i < 240; i++)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {_process.ExitCode}");
            }

            try
            {
                if ((await http.GetAsync(_url + "/health/live")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("The service did not start");
    }

    /// <summary>Peak resident memory of the service process (VmHWM).</summary>
    public long PeakMemoryBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>Resident memory of the service process now (VmRSS).</summary>
    public long MemoryBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>CPU time the service process has used so far.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>CPU time every process on the machine has used so far (user, nice, system, irq, softirq in /proc/stat).</summary>
    public static TimeSpan MachineCpuTime()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ticks = new[] { 1, 2, 3, 6, 7 }.Sum(i => long.Parse(fields[i], System.Globalization.CultureInfo.InvariantCulture));
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    public void Stop()
    {
        lock (_process)
        {
            if (!_disposed && !_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
    }

    public void Dispose()
    {
        Stop();
        lock (_process)
        {
            _disposed = true;
            _process.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Projections.Tests.Infrastructure;

namespace Projections.Tests.Operations;

/// <summary>
/// The long-running scripts of ops/ leave nothing behind however they end: interrupted with Ctrl-C (SIGINT to the whole
/// process group, as a terminal sends it), stopped with kill (SIGTERM to the script alone), or failing. Each is started as
/// a user would start it, in a process group of its own, with no database given, so it starts its own throwaway
/// PostgreSQL; once it is well under way it is interrupted, and afterwards no process it started and no folder it made
/// may be left.
/// </summary>
public sealed partial class OpsScriptsTests
{
    private static readonly string Repository = RepositoryRoot.Path;

    public static TheoryData<string, string, string> Interruptions => new()
    {
        // script and arguments, what it prints once under way, the signal
        { "ops/start", "is running on", "INT" },
        { "ops/start", "is running on", "TERM" },
        { "ops/test --filter FullyQualifiedName~NoTestHasThisName", "throwaway cluster on", "INT" },
        { "ops/test --filter FullyQualifiedName~NoTestHasThisName", "throwaway cluster on", "TERM" },
        { "ops/bench --smoke", "Ingesting", "INT" },
        { "ops/bench --smoke", "Ingesting", "TERM" },
    };

    [Theory]
    [MemberData(nameof(Interruptions))]
    public async Task An_interrupted_script_leaves_no_process_and_no_folder(string command, string underWay, string signal)
    {
        await using var script = ScriptRun.Start(command, FreePort());
        await script.WaitForOutputAsync(underWay, TimeSpan.FromMinutes(4));
        var started = script.Descendants();
        var folders = script.Folders();
        Assert.NotEmpty(folders);

        script.Signal(signal);
        await script.WaitForExitAsync(TimeSpan.FromSeconds(90));

        AssertNothingLeft(script, started, folders);
    }

    [Fact]
    public async Task A_start_that_fails_leaves_no_process_and_no_folder()
    {
        // The service cannot listen on a port that is taken: the script fails after it has started PostgreSQL.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        await using var script = ScriptRun.Start("ops/start", ((IPEndPoint)taken.LocalEndpoint).Port);
        await script.WaitForOutputAsync("throwaway cluster on", TimeSpan.FromMinutes(4));
        var folders = script.Folders();

        await script.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, script.ExitCode);
        Assert.Contains("did not start", script.Output);
        AssertNothingLeft(script, script.Descendants(), folders);
    }

    private static void AssertNothingLeft(ScriptRun script, IReadOnlyCollection<int> started, IReadOnlyCollection<string> folders)
    {
        var alive = started.Where(pid => Directory.Exists($"/proc/{pid}") && !IsZombie(pid)).ToList();
        Assert.True(alive.Count == 0, $"still running: {string.Join(", ", alive.Select(CommandLine))}\n{script.Output}");
        foreach (var folder in folders)
        {
            Assert.False(Directory.Exists(folder), $"{folder} is left\n{script.Output}");
            var using_ = Processes().Where(pid => CommandLine(pid).Contains(folder, StringComparison.Ordinal)).Select(CommandLine).ToList();
            Assert.True(using_.Count == 0, $"still running on {folder}: {string.Join(", ", using_)}");
        }

        Assert.False(script.GroupAlive(), "a process of the script's group is still running");
    }

    private static IEnumerable<int> Processes() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!));

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] == "Z";
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"\(log: (?<folder>\S+)/postgres\.log\)")]
    private static partial Regex ClusterFolder();

    /// <summary>
    /// A script run as a terminal runs a command: in a process group of its own, with SIGINT at its default (whatever
    /// this test host inherited), its output in a file (a pipe would stay open while anything it leaked lives on).
    /// Every process it starts is noted while it runs; whatever is left of them is killed when the test ends.
    /// </summary>
    private sealed class ScriptRun : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _log;
        private readonly HashSet<int> _seen = [];
        private readonly CancellationTokenSource _watching = new();
        private readonly Task _watcher;

        private ScriptRun(Process process, string log)
        {
            (_process, _log) = (process, log);
            _watcher = Task.Run(async () =>
            {
                while (!_watching.IsCancellationRequested)
                {
                    Note();
                    await Task.Delay(100);
                }
            });
        }

        public int ExitCode => _process.ExitCode;

        public string Output => File.Exists(_log) ? File.ReadAllText(_log) : "";

        public static ScriptRun Start(string command, int port)
        {
            var log = Path.GetTempFileName();
            // perl puts SIGINT back to its default (a shell cannot: what it inherits ignored stays ignored), setsid makes
            // the script a process group leader; each execs the next, so the process is the script itself.
            var info = new ProcessStartInfo("bash") { WorkingDirectory = Repository };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("exec perl -e '$SIG{INT} = \"DEFAULT\"; exec @ARGV or die $!' setsid \"$0\" \"$@\" > \"$SCRIPT_LOG\" 2>&1 < /dev/null");
            var parts = command.Split(' ');
            info.ArgumentList.Add(Path.Combine(Repository, parts[0]));
            foreach (var argument in parts.Skip(1))
            {
                info.ArgumentList.Add(argument);
            }

            // As on a fresh shell: no database given (the script starts its own), the port to serve on.
            info.Environment.Remove("ConnectionStrings__Postgres");
            info.Environment.Remove("PROJECTIONS_PG_CTL");
            info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["SCRIPT_LOG"] = log;
            return new ScriptRun(Process.Start(info)!, log);
        }

        public async Task WaitForOutputAsync(string text, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.False(_process.HasExited, $"the script ended before printing '{text}':\n{Output}");
                Assert.True(deadline.Elapsed < timeout, $"the script did not print '{text}' within {timeout}:\n{Output}");
                await Task.Delay(100);
            }
        }

        /// <summary>The throwaway folders the script reported (its PostgreSQL cluster).</summary>
        public IReadOnlyCollection<string> Folders() => [.. ClusterFolder().Matches(Output).Select(m => m.Groups["folder"].Value)];

        /// <summary>Every process the script has started so far, at any depth (process groups of their own included).</summary>
        public IReadOnlyCollection<int> Descendants()
        {
            Note();
            lock (_seen)
            {
                return [.. _seen];
            }
        }

        private void Note()
        {
            var parents = new Dictionary<int, int>();
            foreach (var pid in Processes())
            {
                try
                {
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException)
                {
                }
            }

            lock (_seen)
            {
                _seen.Add(_process.Id);
                for (var grew = true; grew;)
                {
                    grew = false;
                    foreach (var (pid, parent) in parents)
                    {
                        grew |= _seen.Contains(parent) && _seen.Add(pid);
                    }
                }
            }
        }

        public void Signal(string signal) =>
            // INT to the whole group, as Ctrl-C in a terminal; TERM to the script alone, as `kill <pid>`.
            Process.Start("kill", signal == "INT" ? ["-INT", "--", $"-{_process.Id}"] : ["-TERM", $"{_process.Id}"])!.WaitForExit();

        public bool GroupAlive()
        {
            using var probe = Process.Start(new ProcessStartInfo("kill", ["-0", "--", $"-{_process.Id}"]) { RedirectStandardError = true })!;
            probe.WaitForExit();
            return probe.ExitCode == 0;
        }

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the script did not end within {timeout}:\n{Output}");
            }
        }

        /// <summary>Kills whatever is left of the script and what it started (a failed test must not leak into the next).</summary>
        public async ValueTask DisposeAsync()
        {
            await _watching.CancelAsync();
            await _watcher;
            foreach (var pid in Descendants().Where(pid => Directory.Exists($"/proc/{pid}")))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                }
            }

            foreach (var folder in Folders().Where(Directory.Exists))
            {
                var postgres = "/usr/lib/postgresql/" + Directory.EnumerateDirectories("/usr/lib/postgresql").Select(Path.GetFileName).Max() + "/bin/pg_ctl";
                Process.Start(new ProcessStartInfo("runuser", ["-u", "postgres", "--", postgres, "-D", $"{folder}/data", "-m", "immediate", "stop"])
                {
                    RedirectStandardOutput = true, RedirectStandardError = true,
                })?.WaitForExit();
            }

            _process.Dispose();
            _watching.Dispose();
            File.Delete(_log);
        }
    }
}

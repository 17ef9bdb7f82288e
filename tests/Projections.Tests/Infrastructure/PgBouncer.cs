using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Net.Sockets;
using Npgsql;

namespace Projections.Tests.Infrastructure;

/// <summary>
/// A real PgBouncer (Debian's <c>pgbouncer</c>; <c>ops/test</c> installs it) in transaction pooling mode in front of the
/// test cluster, as hosted PostgreSQL is usually reached: a server connection per transaction, no startup parameters.
/// </summary>
public sealed partial class PgBouncer : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/pgbouncer";

    private readonly Process _process;
    private readonly string _directory;

    private PgBouncer(Process process, string directory, int port) => (_process, _directory, Port) = (process, directory, port);

    public int Port { get; }

    /// <summary>The connection string of a database of the test cluster, through the pooler.</summary>
    public string Through(string direct) =>
        new NpgsqlConnectionStringBuilder(direct) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    /// <summary>The local ports of every server connection PgBouncer has opened (from its log): how the server sees it.</summary>
    public async Task<HashSet<int>> ServerPortsAsync()
    {
        var log = await File.ReadAllTextAsync(Path.Combine(_directory, "pgbouncer.log"));
        return ServerConnection().Matches(log).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();
    }

    [GeneratedRegex(@"new connection to server \(from [^)]*:(\d+)\)")]
    private static partial Regex ServerConnection();

    public static async Task<PgBouncer> StartAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"PgBouncer is not installed ({Executable} is missing): ops/test installs it, or apt-get install -y pgbouncer");
        }

        var server = new NpgsqlConnectionStringBuilder(AppFixture.ConnectionString);
        var port = ServiceProcess.FreePort();
        var directory = Directory.CreateTempSubdirectory("projections-pgbouncer.").FullName;
        var root = Environment.UserName == "root";
        await File.WriteAllTextAsync(Path.Combine(directory, "users.txt"), $"\"{server.Username}\" \"\"\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "pgbouncer.ini"), $"""
            [databases]
            * = host={server.Host} port={server.Port}
            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {Path.Combine(directory, "users.txt")}
            logfile = {Path.Combine(directory, "pgbouncer.log")}
            pool_mode = transaction
            max_client_conn = 1000
            default_pool_size = 40
            """);
        if (root)
        {
            // PgBouncer does not run as root: it takes the cluster's own user, which owns the folder.
            await Process.Start("chown", ["-R", "postgres", directory]).WaitForExitAsync();
        }

        // Its log goes to a file: a pipe nobody reads fills up, and PgBouncer (one thread) then stops serving everyone.
        var info = new ProcessStartInfo(Executable) { UseShellExecute = false };
        if (root)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add("postgres");
        }

        info.ArgumentList.Add(Path.Combine(directory, "pgbouncer.ini"));
        var process = Process.Start(info)!;
        var pooler = new PgBouncer(process, directory, port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, timeout.Token);
                return pooler;
            }
            catch (SocketException) when (!process.HasExited)
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (Exception) when (process.HasExited)
            {
                var log = Path.Combine(directory, "pgbouncer.log");
                throw new InvalidOperationException($"PgBouncer stopped: {(File.Exists(log) ? await File.ReadAllTextAsync(log) : "no log")}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Projections.Tests.Infrastructure;

/// <summary>
/// A real, throwaway RabbitMQ node (Debian's <c>rabbitmq-server</c>; <c>ops/test</c> installs it): a node name, AMQP and
/// distribution ports, data, logs and Erlang cookie of its own in a temporary folder, so it neither needs nor touches the
/// machine's broker. <see cref="RestartAsync"/> stops the node and starts it again on the same ports and data, as a
/// broker is restarted in production: durable queues and persistent messages survive it.
/// </summary>
public sealed class RabbitMq : IAsyncDisposable
{
    /// <summary>The server script itself, not Debian's wrapper in /usr/sbin, which runs it as the <c>rabbitmq</c> user
    /// with that user's home (and cookie) when called by root.</summary>
    public const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    private readonly string _directory;
    private readonly int _distributionPort;
    private Process? _process;

    private RabbitMq(string directory, int port, int distributionPort)
    {
        (_directory, Port, _distributionPort) = (directory, port, distributionPort);
        NodeName = $"projections-{Guid.NewGuid():N}@localhost";
    }

    public string NodeName { get; }

    public int Port { get; }

    /// <summary>The broker's address for the service (<c>Queue:RabbitMqUri</c>); <c>guest</c> may connect from localhost.</summary>
    public Uri Uri => new($"amqp://guest:guest@127.0.0.1:{Port}/");

    private string LogFile => Path.Combine(_directory, "rabbitmq.log");

    public static async Task<RabbitMq> StartAsync()
    {
        if (!File.Exists(Server))
        {
            throw new InvalidOperationException(
                $"RabbitMQ is not installed ({Server} is missing): ops/test installs it, or apt-get install -y rabbitmq-server");
        }

        var directory = Directory.CreateTempSubdirectory("projections-rabbitmq.").FullName;
        var broker = new RabbitMq(directory, ServiceProcess.FreePort(), ServiceProcess.FreePort());
        try
        {
            // No plugin (the management plugin is not needed), and nothing read from the machine's /etc/rabbitmq.
            await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].\n");
            await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq.conf"), "loopback_users.guest = true\n");
            await broker.StartNodeAsync();
            return broker;
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the node as an operator would (SIGTERM: it closes its connections and flushes its queues, like
    /// <c>rabbitmqctl stop</c>), then starts it again with the same name, ports and data, and waits until it accepts AMQP.
    /// <paramref name="whileStopped"/> runs while the broker is down.
    /// </summary>
    public async Task RestartAsync(Func<Task>? whileStopped = null)
    {
        await StopNodeAsync();
        try
        {
            if (whileStopped is not null)
            {
                await whileStopped();
            }
        }
        finally
        {
            // Whatever happened meanwhile, the next test finds a broker.
            await StartNodeAsync();
        }
    }

    /// <summary>
    /// A broker that hangs and then dies, as when its machine freezes and is reset: the node is stopped (SIGSTOP), so
    /// it keeps its connections and the kernel keeps accepting what clients write to them, but it reads, confirms and
    /// delivers nothing; <paramref name="whileHung"/> runs; then it is killed (SIGKILL: nothing flushed, what sat unread
    /// in its sockets gone, connections reset) and started again with the same name, ports and data.
    /// </summary>
    public async Task HangKillAndRestartAsync(Func<Task>? whileHung = null)
    {
        var process = _process ?? throw new InvalidOperationException("The broker is not running");
        // The Erlang VM's own id (the server script runs it as a child); it writes it once it has booted.
        var vm = (await File.ReadAllTextAsync(Path.Combine(_directory, "rabbitmq.pid"))).Trim();
        await SignalAsync("-STOP", vm);
        try
        {
            if (whileHung is not null)
            {
                await whileHung();
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
            await StartNodeAsync();
        }
    }

    /// <summary>A client connection to the broker (for publishing raw messages, or looking at queues).</summary>
    public Task<IConnection> ConnectAsync() => Factory().CreateConnectionAsync();

    private ConnectionFactory Factory() => new() { Uri = Uri, AutomaticRecoveryEnabled = false };

    private async Task StartNodeAsync()
    {
        // The server's own console output and its log both go to a file: a pipe nobody reads fills up and stalls it.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" >> \"$1\" 2>&1");
        info.ArgumentList.Add(Server);
        info.ArgumentList.Add(LogFile);
        var environment = new Dictionary<string, string>
        {
            // Its own Erlang cookie: HOME is where Erlang creates and reads it.
            ["HOME"] = _directory,
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(_directory, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_directory, "rabbitmq-env.conf"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "rabbitmq.pid"),
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        _process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"RabbitMQ stopped with {_process.ExitCode} while starting:\n{await LogTailAsync()}");
            }

            try
            {
                await using var connection = await Factory().CreateConnectionAsync(timeout.Token);
                return;
            }
            catch (BrokerUnreachableException)
            {
                // Still booting: the AMQP listener opens last.
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"RabbitMQ did not accept AMQP connections on port {Port} within 90 s:\n{await LogTailAsync()}");
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    private async Task StopNodeAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            // The server script passes SIGTERM on to the Erlang VM, which stops the node in order and then exits.
            await SignalAsync("-TERM", _process.Id.ToString(CultureInfo.InvariantCulture));

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _process = null;
    }

    private static async Task SignalAsync(string signal, string processId)
    {
        using var kill = Process.Start("kill", [signal, processId]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {processId} failed with {kill.ExitCode}");
        }
    }

    private async Task<string> LogTailAsync()
    {
        if (!File.Exists(LogFile))
        {
            return "(no log)";
        }

        var lines = await File.ReadAllLinesAsync(LogFile);
        return string.Join('\n', lines.TakeLast(40));
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // Its data goes with the folder: no need to stop it in order.
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
        Directory.Delete(_directory, recursive: true);
    }
}

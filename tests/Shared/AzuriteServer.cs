using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KdData.Testing;

/// <summary>
/// A private Azurite blob service on a free loopback port with a temp data folder, both removed on dispose. Azurite is
/// installed with npm into <c>&lt;repo&gt;/.tools/azurite</c> (git-ignored) when it is not there yet; a file lock keeps
/// two processes of one checkout from installing at once. One source file, linked into the tests (their
/// <c>AzuriteFixture</c>) and the bench, so both start Azurite the same way.
/// </summary>
internal sealed class AzuriteServer : IAsyncDisposable
{
    public const string Version = "3.37.0";
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's documented development key: public, not a secret.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private readonly string _executable;
    private readonly StringBuilder _output = new();

    /// <summary>Whether the data folder is this server's own temp folder (removed on dispose) rather than the caller's (kept).</summary>
    private readonly bool _ownsData;
    private Process? _process;

    private AzuriteServer(string executable, string dataDirectory, bool ownsData)
    {
        _executable = executable;
        DataDirectory = dataDirectory;
        _ownsData = ownsData;
    }

    public int Port { get; private set; }

    /// <summary>Azurite's <c>--location</c>: its data survives a <see cref="StopAsync"/> and <see cref="RestartAsync"/> (and, when the caller named it, the dispose).</summary>
    public string DataDirectory { get; }

    /// <summary>Path-style blob endpoint, e.g. <c>http://127.0.0.1:12345/devstoreaccount1</c>.</summary>
    public string BlobEndpoint => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{AccountName}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    /// <summary>
    /// Process id of the running Azurite (the Node.js process: the launcher is a script whose <c>#!/usr/bin/env node</c> line
    /// runs node in its place), null when stopped: the bench reads the CPU time of it and any children it forks from
    /// <c>/proc</c>.
    /// </summary>
    public int? ProcessId => _process?.Id;

    /// <summary>CPU time the running Azurite process (one Node.js process) has used so far; zero when stopped.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            var process = _process;
            if (process is null)
            {
                return TimeSpan.Zero;
            }

            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>Installs Azurite when needed and starts it on a free port (a few ports are tried: one can be taken between probing and binding).</summary>
    /// <exception cref="InvalidOperationException">npm or Azurite could not be run; the message says why.</exception>
    public static Task<AzuriteServer> StartAsync(string repoRoot, CancellationToken cancellationToken = default) =>
        StartAsync(repoRoot, null, cancellationToken);

    /// <summary>
    /// As <see cref="StartAsync(string, CancellationToken)"/>, on <paramref name="dataDirectory"/> when given: that folder
    /// is created if needed and kept, with what Azurite stored in it, after a graceful stop on dispose, so a later start
    /// on it finds the same blobs (the bench uploads its inputs once). Null: a new temp folder, removed on dispose.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm or Azurite could not be run; the message says why.</exception>
    public static async Task<AzuriteServer> StartAsync(string repoRoot, string? dataDirectory, CancellationToken cancellationToken = default)
    {
        var executable = await EnsureInstalledAsync(repoRoot, cancellationToken).ConfigureAwait(false);
        var ownsData = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "kddata-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var server = new AzuriteServer(executable, dataDirectory, ownsData);
        for (var attempt = 1; ; attempt++)
        {
            server.Port = FreePort();
            if (await server.TryStartAsync(cancellationToken).ConfigureAwait(false))
            {
                return server;
            }

            if (attempt == 3)
            {
                var log = server.Output();
                await server.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"Azurite {Version} ({executable}) did not start on 127.0.0.1:{server.Port} within {StartTimeout}. Output:\n{log}");
            }
        }
    }

    /// <summary>Stops Azurite (SIGKILL), keeping its data folder and port for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Left to the OS; the data folder is still removed on dispose.
                }
            }
        }
    }

    /// <summary>
    /// Stops Azurite gracefully (SIGTERM: it closes its server and saves its metadata), keeping its data folder and
    /// port for <see cref="RestartAsync"/>; killed if it has not exited within 20 s.
    /// </summary>
    public async Task StopGracefullyAsync()
    {
        var process = _process;
        if (process is null || process.HasExited)
        {
            await StopAsync().ConfigureAwait(false);
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false }))
        {
            await kill!.WaitForExitAsync().ConfigureAwait(false);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // StopAsync below kills it.
        }

        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Starts Azurite again on the same port and data folder, as a storage service coming back after an outage.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync().ConfigureAwait(false);
        if (!await TryStartAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"Azurite did not restart on 127.0.0.1:{Port} within {StartTimeout}. Output:\n{Output()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_ownsData)
        {
            // The caller's folder is kept: a graceful stop lets Azurite save its metadata there.
            await StopGracefullyAsync().ConfigureAwait(false);
            return;
        }

        await StopAsync().ConfigureAwait(false);
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    /// <summary>What Azurite printed (for failure messages).</summary>
    public string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private async Task<bool> TryStartAsync(CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(CultureInfo.InvariantCulture),
                     "--location", DataDirectory, "--silent", "--loose", "--disableTelemetry",
                 })
        {
            startInfo.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Azurite could not be started ({_executable}): {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                break;
            }

            if (await PortAnswersAsync(Port, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        await StopAsync().ConfigureAwait(false);
        return false;
    }

    private static async Task<string> EnsureInstalledAsync(string repoRoot, CancellationToken cancellationToken)
    {
        var prefix = Path.Combine(repoRoot, ".tools", "azurite");
        var executable = Path.Combine(prefix, "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");
        if (File.Exists(executable))
        {
            return executable;
        }

        Directory.CreateDirectory(prefix);
        using var installLock = await LockAsync(Path.Combine(prefix, "install.lock"), cancellationToken).ConfigureAwait(false);
        if (File.Exists(executable))
        {
            return executable;
        }

        Console.WriteLine($"Installing azurite@{Version} into {prefix} with npm ...");
        var startInfo = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, "azurite@" + Version })
        {
            startInfo.ArgumentList.Add(arg);
        }

        Process npm;
        try
        {
            npm = Process.Start(startInfo) ?? throw new InvalidOperationException("Process.Start returned null for npm.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Azurite is not installed in {prefix} and npm could not be started to install it (install Node.js/npm): {e.Message}", e);
        }

        using (npm)
        {
            var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(InstallTimeout);
            try
            {
                await npm.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                npm.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"npm install azurite@{Version} did not finish within {InstallTimeout}.");
            }

            if (npm.ExitCode != 0 || !File.Exists(executable))
            {
                throw new InvalidOperationException($"npm install azurite@{Version} into {prefix} failed (exit {npm.ExitCode}):\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
            }
        }

        return executable;
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> PortAnswersAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KdData.Bench;

/// <summary>
/// A private Azurite blob service on a free loopback port with a temp data folder, both removed on dispose.
/// Azurite is installed with npm into <c>&lt;repo&gt;/.tools/azurite</c> (git-ignored) when it is not there yet.
/// </summary>
internal sealed class AzuriteServer : IAsyncDisposable
{
    public const string Version = "3.37.0";
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's documented development key: public, not a secret.</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly StringBuilder _output;

    private AzuriteServer(Process process, int port, string dataDirectory, StringBuilder output)
    {
        _process = process;
        Port = port;
        _dataDirectory = dataDirectory;
        _output = output;
    }

    public int Port { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/{AccountName};";

    /// <summary>CPU time Azurite (one Node.js process) has used so far: it shares the machine's cores with the Labeler.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Peak resident memory of the Azurite process, in KiB (0 if unknown).</summary>
    public long PeakRssKiB => PeakMemory.ReadVmHwmKiB(_process.Id);

    /// <exception cref="InvalidOperationException">npm or Azurite could not be run; the message says why.</exception>
    public static async Task<AzuriteServer> StartAsync(string repoRoot, CancellationToken cancellationToken = default)
    {
        var executable = await EnsureInstalledAsync(repoRoot, cancellationToken);
        var dataDirectory = Path.Combine(Path.GetTempPath(), "kddata-bench-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        var port = FreePort();
        var output = new StringBuilder();
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
                     "--location", dataDirectory, "--silent", "--loose", "--disableTelemetry",
                 })
        {
            startInfo.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new AzuriteServer(process, port, dataDirectory, output);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited || await PortAnswersAsync(port, cancellationToken))
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        if (process.HasExited || !await PortAnswersAsync(port, cancellationToken))
        {
            var log = server.Output();
            await server.DisposeAsync();
            throw new InvalidOperationException($"Azurite ({executable}) did not start on 127.0.0.1:{port} within {StartTimeout}. Output:\n{log}");
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Left to the OS; the data folder is removed regardless.
            }
        }

        _process.Dispose();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    private static async Task<string> EnsureInstalledAsync(string repoRoot, CancellationToken cancellationToken)
    {
        var prefix = Path.Combine(repoRoot, ".tools", "azurite");
        var executable = Path.Combine(prefix, "node_modules", ".bin", "azurite-blob");
        if (File.Exists(executable))
        {
            return executable;
        }

        Console.WriteLine($"Installing azurite@{Version} into {prefix} with npm ...");
        Directory.CreateDirectory(prefix);
        var startInfo = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
            throw new InvalidOperationException($"Azurite is not installed in {prefix} and npm could not be started to install it (install Node.js/npm, or run with --azurite false): {e.Message}", e);
        }

        using (npm)
        {
            var stdout = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(InstallTimeout);
            try
            {
                await npm.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                npm.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"npm install azurite@{Version} did not finish within {InstallTimeout}.");
            }

            if (npm.ExitCode != 0 || !File.Exists(executable))
            {
                throw new InvalidOperationException($"npm install azurite@{Version} into {prefix} failed (exit {npm.ExitCode}):\n{await stdout}\n{await stderr}");
            }
        }

        return executable;
    }

    private static async Task<bool> PortAnswersAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
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

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }
}

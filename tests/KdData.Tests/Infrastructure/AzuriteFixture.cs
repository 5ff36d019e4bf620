using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Storage.Blobs;

namespace KdData.Tests.Infrastructure;

/// <summary>
/// Runs a private Azurite blob service for the tests. Installs Azurite into <c>&lt;repo&gt;/.tools/azurite</c> with npm
/// when it is not there yet (git-ignored), starts it on a free port with a temp data folder, and removes both on dispose.
/// If npm or Azurite cannot start, initialisation throws and every test in the collection fails with the reason.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string AzuriteVersion = "3.37.0";
    public const string AccountName = "devstoreaccount1";

    /// <summary>The well-known, public Azurite development key (not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _dataDirectory;

    public int Port { get; private set; }

    /// <summary>Path-style blob endpoint, e.g. <c>http://127.0.0.1:12345/devstoreaccount1</c>.</summary>
    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{AccountName}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    public async Task InitializeAsync()
    {
        string executable = await EnsureInstalledAsync();
        _dataDirectory = Path.Combine(Path.GetTempPath(), "kddata-azurite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dataDirectory);

        // A free port can be taken by someone else between probing and Azurite binding it: try a few.
        for (int attempt = 1; ; attempt++)
        {
            Port = FindFreePort();
            if (await TryStartAsync(executable))
            {
                return;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException(
                    $"Azurite {AzuriteVersion} ({executable}) did not start on 127.0.0.1:{Port} within {StartTimeout}. Output:\n{Output()}");
            }
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    /// <summary>Creates a container with a unique name and returns the name.</summary>
    public async Task<string> CreateContainerAsync()
    {
        string name = "t" + Guid.NewGuid().ToString("N")[..20];
        await new BlobContainerClient(ConnectionString, name).CreateAsync();
        return name;
    }

    public async Task DeleteContainerAsync(string name) =>
        await new BlobContainerClient(ConnectionString, name).DeleteIfExistsAsync();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KdData.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"KdData.sln not found above {AppContext.BaseDirectory}; cannot locate <repo>/.tools for Azurite.");
    }

    private static async Task<string> EnsureInstalledAsync()
    {
        string prefix = Path.Combine(FindRepoRoot(), ".tools", "azurite");
        string executable = Path.Combine(prefix, "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");
        if (File.Exists(executable))
        {
            return executable;
        }

        Directory.CreateDirectory(prefix);

        // Serialise installs between test processes sharing the repository.
        using FileStream installLock = await LockAsync(Path.Combine(prefix, "install.lock"));
        if (File.Exists(executable))
        {
            return executable;
        }

        var startInfo = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, "azurite@" + AzuriteVersion })
        {
            startInfo.ArgumentList.Add(arg);
        }

        Process npm;
        try
        {
            npm = Process.Start(startInfo) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"Azurite is not installed in {prefix} and npm could not be started to install it: {ex.Message}", ex);
        }

        using (npm)
        {
            Task<string> stdout = npm.StandardOutput.ReadToEndAsync();
            Task<string> stderr = npm.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(InstallTimeout);
            try
            {
                await npm.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                npm.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"npm install azurite@{AzuriteVersion} did not finish within {InstallTimeout}.");
            }

            if (npm.ExitCode != 0 || !File.Exists(executable))
            {
                throw new InvalidOperationException(
                    $"npm install azurite@{AzuriteVersion} into {prefix} failed (exit {npm.ExitCode}):\n{await stdout}\n{await stderr}");
            }
        }

        return executable;
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        DateTime deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task<bool> TryStartAsync(string executable)
    {
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
                 {
                     "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--location", _dataDirectory!, "--silent", "--loose", "--disableTelemetry",
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
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException($"Azurite could not be started ({executable}): {ex.Message}", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await StopAsync();
                return false;
            }

            if (await PortAnswersAsync())
            {
                return true;
            }

            await Task.Delay(100);
        }

        await StopAsync();
        return false;
    }

    private async Task<bool> PortAnswersAsync()
    {
        using var client = new TcpClient();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task StopAsync()
    {
        Process? process = _process;
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
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    // Left to the OS; the data folder is still removed.
                }
            }
        }
    }

    private static int FindFreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
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

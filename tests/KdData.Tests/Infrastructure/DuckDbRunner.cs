using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace KdData.Tests.Infrastructure;

/// <summary>
/// Runs SQL in DuckDB (through its Node.js package) so tests can check that files we write are readable by
/// another engine. The package is installed from the npm registry on first use into
/// <c>&lt;repo&gt;/.tools/duckdb</c> (git-ignored) and reused afterwards.
/// </summary>
/// <remarks>
/// Each query runs in a fresh <c>node</c> process against an in-memory database, under a timeout; a failure
/// throws with node's stderr in the message. Results are DuckDB's JSON row objects: BIGINT and HUGEINT values
/// (e.g. <c>count(*)</c>, <c>sum</c> of integers) come back as strings, so cast them in SQL
/// (<c>count(*)::INTEGER</c>, <c>sum(x)::DOUBLE</c>) to get JSON numbers.
/// </remarks>
public sealed class DuckDbRunner
{
    /// <summary>The npm package providing DuckDB; its prebuilt binary ships inside a registry package.</summary>
    public const string PackageSpec = "@duckdb/node-api@1.5.6-r.1";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan DefaultQueryTimeout = TimeSpan.FromMinutes(1);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static DuckDbRunner? _shared;

    // CommonJS so the package can be required by absolute path from a script outside its folder.
    private const string Script = """
        const fs = require('fs');
        const { DuckDBInstance } = require(process.argv[2]);
        (async () => {
          const sql = fs.readFileSync(process.argv[3], 'utf8');
          const instance = await DuckDBInstance.create(':memory:');
          const connection = await instance.connect();
          const reader = await connection.runAndReadAll(sql);
          process.stdout.write(JSON.stringify(reader.getRowObjectsJson()));
          connection.closeSync();
        })().catch(e => { process.stderr.write(String((e && e.stack) || e)); process.exit(1); });
        """;

    private readonly string _modulePath;

    private DuckDbRunner(string modulePath) => _modulePath = modulePath;

    /// <summary>Where the package is installed: <c>&lt;repo root&gt;/.tools/duckdb</c>.</summary>
    public static string InstallDirectory => Path.Combine(FindRepoRoot(), ".tools", "duckdb");

    /// <summary>Returns a runner, installing the npm package first if it is not there yet.</summary>
    public static async Task<DuckDbRunner> GetAsync(CancellationToken cancellationToken = default)
    {
        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            return _shared ??= new DuckDbRunner(await EnsureInstalledAsync(cancellationToken));
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Runs one SQL statement and returns its rows as JSON objects.</summary>
    public async Task<IReadOnlyList<JsonElement>> QueryAsync(string sql, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        var work = Path.Combine(Path.GetTempPath(), "kddata-duckdb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var scriptPath = Path.Combine(work, "query.cjs");
            var sqlPath = Path.Combine(work, "query.sql");
            await File.WriteAllTextAsync(scriptPath, Script, cancellationToken);
            await File.WriteAllTextAsync(sqlPath, sql, cancellationToken);
            var (stdout, _) = await RunAsync("node", [scriptPath, _modulePath, sqlPath], work, timeout ?? DefaultQueryTimeout, $"DuckDB query `{sql}`", cancellationToken);
            using var document = JsonDocument.Parse(stdout);
            return [.. document.RootElement.EnumerateArray().Select(row => row.Clone())];
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Quotes a file path as a SQL string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken)
    {
        var directory = InstallDirectory;
        var modulePath = Path.Combine(directory, "node_modules", "@duckdb", "node-api");
        var version = PackageSpec[(PackageSpec.LastIndexOf('@') + 1)..];
        if (InstalledVersion(modulePath) == version)
        {
            return modulePath;
        }

        Directory.CreateDirectory(directory);
        // A file lock keeps two test processes of the same checkout from running npm into one folder at once.
        await using var installLock = await AcquireFileLockAsync(Path.Combine(directory, ".install.lock"), cancellationToken);
        if (InstalledVersion(modulePath) != version)
        {
            await RunAsync(
                "npm",
                ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", directory, PackageSpec],
                directory,
                InstallTimeout,
                $"npm install {PackageSpec}",
                cancellationToken);
        }

        var installed = InstalledVersion(modulePath);
        return installed == version
            ? modulePath
            : throw new InvalidOperationException($"npm install {PackageSpec} finished but {modulePath} has version '{installed ?? "none"}'.");
    }

    private static string? InstalledVersion(string modulePath)
    {
        var manifest = Path.Combine(modulePath, "package.json");
        if (!File.Exists(manifest))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(manifest));
        return document.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
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
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            }
        }
    }

    private static async Task<(string Stdout, string Stderr)> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"{what}: cannot start '{fileName}' ({ex.Message}); is Node.js installed?", ex);
        }

        process.StandardInput.Close();
        var stdoutTask = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            var partialStderr = await stderrTask;
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{what} did not finish within {timeout}. stderr:\n{partialStderr}");
        }

        var stdout = await stdoutTask;
        var stderr = await stderrTask;
        return process.ExitCode == 0
            ? (stdout, stderr)
            : throw new InvalidOperationException($"{what} exited with code {process.ExitCode}. stderr:\n{stderr}\nstdout:\n{stdout}");
    }

    private static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "KdData.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No KdData.sln above {AppContext.BaseDirectory}; cannot place the DuckDB tools folder.");
    }
}

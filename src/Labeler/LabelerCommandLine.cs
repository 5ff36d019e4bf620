using KdData.Hosting;

namespace KdData.Labeler;

/// <summary>
/// The Labeler's command line, <c>kddata-labeler [--Section:Key=value ...]</c>: it has no commands, only settings. It
/// answers <c>--help</c> itself and refuses any other argument that is not a setting (exit 2, naming it) before the host
/// starts, so a typo never starts a labeling run with the defaults.
/// </summary>
public static class LabelerCommandLine
{
    /// <summary>What <c>--help</c> prints.</summary>
    public const string Help = """
        kddata-labeler: labels unlabeled images with a teacher network into soft-target Parquet shards.
        Resumable and incremental (an image is labeled once per ETag), partitionable across replicas.

        Usage: kddata-labeler [--Section:Key=value ...]

        Main settings (all of them, with defaults: docs/configuration.md; the Labeler: docs/labeler.md):
          --Labeler:Input=LOCATION       images: file:DIR/ or az://container/prefix/ (loose files, .parquet, .tar)
          --Labeler:Output=LOCATION      where shards, state and errors/ go
          --Labeler:Teacher=RECORD       the teacher's checkpoint record (.json)
          --Labeler:InputFormat=Auto     Auto, Loose, Parquet or Tar
          --Labeler:ViewsPerImage=1      views labeled per image (random resized crops after the first)
          --Labeler:Partition:Count=1 --Labeler:Partition:Index=0   this replica's share (JOB_COMPLETION_INDEX also sets the index)
          --Storage:AuthMode=ConnectionString       or Sas, Identity
          --Torch:Device=auto --Torch:Threads=0

        Exit codes: 0 done, 1 failed, 2 bad settings or input, 3 interrupted (rerun to resume),
        4 too many images failed (Labeler:MaxErrors, Labeler:MaxErrorPercent).
        """;

    /// <summary>Runs the command line; returns the process exit code.</summary>
    /// <param name="args">The program's arguments.</param>
    /// <param name="run">Runs the job with the settings (the host).</param>
    /// <param name="output">Where help goes. Default: standard output.</param>
    /// <param name="error">Where argument errors go. Default: standard error.</param>
    public static async Task<int> RunAsync(string[] args, Func<string[], Task<int>> run, TextWriter? output = null, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(run);
        output ??= Console.Out;
        error ??= Console.Error;
        if (args.Any(a => a is "--help" or "-h" or "-?" or "/?" or "/h"))
        {
            await output.WriteAsync(Help).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || !name.Contains(':', StringComparison.Ordinal))
            {
                await error.WriteLineAsync($"error: unknown argument '{arg}'; the Labeler takes only settings, --Section:Key=value (run with --help).").ConfigureAwait(false);
                return ExitCodes.InvalidConfiguration;
            }
            if (equals < 0)
            {
                // --Section:Key value: the value is the next argument.
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    await error.WriteLineAsync($"error: setting '{arg}' has no value; write {arg}=value.").ConfigureAwait(false);
                    return ExitCodes.InvalidConfiguration;
                }
                i++;
            }
        }
        return await run(args).ConfigureAwait(false);
    }
}

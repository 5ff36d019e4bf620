using KdData.Hosting;
using KdData.Models;
using KdData.Records;
using KdData.Torch;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer ensemble</c>: loads two or more checkpoints and writes one <c>ensemble</c> checkpoint
/// (<see cref="ModelFamilies.Ensemble"/>: the log of the members' mean probabilities) with every member's weights in
/// one file, so the Labeler, <c>evaluate</c>, <c>distill --teacher</c> and <c>selftrain --teacher</c> take an ensemble
/// wherever they take a teacher. Members must predict the same classes in the same order and take the same
/// preprocessing: otherwise exit 2 naming the member that differs. Its record lists the members (path and weights id)
/// and the ensemble's parameters and MACs (the labeling cost: the members' sum).
/// </summary>
public sealed class EnsembleJob : JobService
{
    /// <summary>File name (without extension) of the written checkpoint in the output folder.</summary>
    public const string CheckpointName = "ensemble";

    private readonly EnsembleOptions _options;
    private readonly TorchOptions _torchOptions;

    public EnsembleJob(IOptions<EnsembleOptions> options, IOptions<TorchOptions> torchOptions, IHostApplicationLifetime lifetime, JobOutcome outcome, ILogger<EnsembleJob> logger)
        : base(lifetime, outcome, logger)
    {
        _options = options.Value;
        _torchOptions = torchOptions.Value;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        // Torch:Threads and the device policy apply here as in every stage; the members are built and probed on the CPU.
        TorchDeviceSelector.Initialize(_torchOptions);
        var paths = _options.MemberPaths;
        var members = new List<Checkpoint>(paths.Count);
        try
        {
            foreach (var path in paths)
            {
                members.Add(await CheckpointInput.LoadAsync(path, $"{EnsembleOptions.SectionName}:{nameof(EnsembleOptions.Members)}", cancellationToken: stoppingToken));
            }
            CheckMembers(paths, [.. members.Select(m => m.Record)]);
            var first = members[0].Record;

            var spec = new ModelSpec
            {
                Name = ModelFamilies.Ensemble,
                NumClasses = first.Architecture.NumClasses,
                InChannels = first.Architecture.InChannels,
                Members = [.. members.Select(m => m.Record.Architecture)],
            };
            using var ensemble = ModelZoo.Create(spec);
            CopyMemberWeights(ensemble, members);
            var preprocessing = first.Preprocessing;
            var record = new CheckpointRecord
            {
                Architecture = spec,
                Classes = first.Classes,
                Preprocessing = preprocessing,
                Training = new TrainingRecord
                {
                    Stage = CheckpointName,
                    Members = [.. paths.Select((p, i) => new ParentCheckpoint { Path = p, Id = members[i].Record.WeightsSha256?[..16] ?? string.Empty })],
                    Model = new ModelCostRecord
                    {
                        Parameters = ModelComplexity.Parameters(ensemble),
                        Macs = preprocessing is null ? null : ModelComplexity.Macs(ensemble, preprocessing.Channels, preprocessing.Height, preprocessing.Width),
                    },
                },
            };
            var written = await CheckpointSerializer.SaveAsync(ensemble, record, _options.Output, CheckpointName, stoppingToken);
            Logger.LogInformation(
                "Ensemble of {Count} members ({Parameters} parameters, {Macs} MACs an image) written to {Path}: {Members}",
                members.Count, record.Training.Model.Parameters, record.Training.Model.Macs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?",
                written, string.Join(", ", paths));
            return ExitCodes.Success;
        }
        finally
        {
            members.ForEach(m => m.Model.Dispose());
        }
    }

    /// <summary>Checks that the members at <paramref name="paths"/> can form one teacher: none an ensemble, same classes, same input.</summary>
    /// <exception cref="InvalidInputException">A member differs from the first; the message names both files.</exception>
    public static void CheckMembers(IReadOnlyList<string> paths, IReadOnlyList<CheckpointRecord> records)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(records);
        for (var i = 0; i < records.Count; i++)
        {
            CheckMember(paths[i], records[i], paths[0], records[0]);
        }
    }

    private static void CheckMember(string path, CheckpointRecord member, string firstPath, CheckpointRecord first)
    {
        if (ModelFamilies.Is(member.Architecture.Name, ModelFamilies.Ensemble))
        {
            throw new InvalidInputException(
                $"Checkpoint '{path}' ({EnsembleOptions.SectionName}:{nameof(EnsembleOptions.Members)}) is an ensemble itself; list its member checkpoints instead.");
        }
        if (member.Architecture.NumClasses != first.Architecture.NumClasses || !member.Classes.SequenceEqual(first.Classes))
        {
            throw new InvalidInputException(
                $"Checkpoint '{path}' predicts the classes [{string.Join(", ", member.Classes)}] ({member.Architecture.NumClasses}), but '{firstPath}' " +
                $"predicts [{string.Join(", ", first.Classes)}] ({first.Architecture.NumClasses}): an ensemble's members predict the same classes in the same order.");
        }
        if (member.Architecture.InChannels != first.Architecture.InChannels || !SamePreprocessing(member.Preprocessing, first.Preprocessing))
        {
            throw new InvalidInputException(
                $"Checkpoint '{path}' takes other input than '{firstPath}' ({Describe(member)} against {Describe(first)}): an ensemble's members see the same image.");
        }
    }

    private static bool SamePreprocessing(PreprocessingRecord? a, PreprocessingRecord? b) => a is null ? b is null : a.SameInput(b);

    private static string Describe(CheckpointRecord record) =>
        record.Preprocessing?.Describe() ?? $"{record.Architecture.InChannels} channel(s), preprocessing not recorded";

    /// <summary>Member i's state (parameters and buffers) into the ensemble's <c>members.i.*</c> entries.</summary>
    private static void CopyMemberWeights(torch.nn.Module ensemble, List<Checkpoint> members)
    {
        var target = ensemble.state_dict();
        using var noGrad = torch.no_grad();
        var copied = 0;
        for (var i = 0; i < members.Count; i++)
        {
            foreach (var (name, tensor) in members[i].Model.state_dict())
            {
                target[$"members.{i}.{name}"].copy_(tensor);
                copied++;
            }
        }
        if (copied != target.Count)
        {
            throw new InvalidOperationException($"The ensemble has {target.Count} state entries but its members gave {copied}.");
        }
    }
}

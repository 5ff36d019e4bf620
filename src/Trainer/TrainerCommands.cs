using KdData.Hosting;
using KdData.Models;
using KdData.Pruning;

namespace KdData.Trainer;

/// <summary>
/// The Trainer's commands and their switches: the one table the command line and <c>--help</c> are built from.
/// A new stage is one entry here plus its job registration in <see cref="TrainerHostExtensions"/>.
/// </summary>
public static class TrainerCommands
{
    public const string Teacher = "teacher";
    public const string Import = "import";
    public const string Evaluate = "evaluate";
    public const string Distill = "distill";
    public const string Quantize = "quantize";
    public const string Export = "export";
    public const string Sweep = "sweep";
    public const string Prune = "prune";
    public const string SelfTrain = "selftrain";
    public const string Pipeline = "pipeline";
    public const string Ensemble = "ensemble";

    /// <summary>
    /// The command run when none is given: <c>dotnet run --project src/Trainer</c> after <c>dotnet run --project src/Labeler</c>
    /// distils the default student from the committed sample and the Labeler's default output.
    /// </summary>
    public const string Default = Distill;

    private static readonly TrainerSwitch Device = new("--device", "Torch:Device", "Torch device: auto, cpu, cuda or cuda:N", "auto", "device");

    private static readonly TrainerSwitch Preset = new("--preset", SettingsPresets.Key, "Named recipe: the settings in presets/<name>.json over appsettings.json (fmnist-supervised, fmnist-fixmatch; docs/training.md); switches and --Section:Key=value still win", "none", "name");

    private static readonly TrainerSwitch Dataset = new("--dataset", "Trainer:Data:Dataset", "Dataset root location (manifest.parquet, classes.json, images)", "file:samples/fashion-mnist/", "location");

    public static IReadOnlyList<TrainerCommand> All { get; } =
    [
        new(
            Teacher,
            "Train the teacher on the dataset's labeled split",
            "Train the teacher on the dataset's labeled train split, evaluating on its test split each epoch. Resumes from the last checkpoint in --output.",
            [
                Dataset,
                Preset,
                new("--output", "Trainer:Output", "Folder for checkpoints (best, last) and metrics.jsonl", "out/teacher", "folder"),
                new("--epochs", "Trainer:Teacher:Epochs", "Training epochs", "30", "n"),
                new("--batch-size", "Trainer:Teacher:BatchSize", "Images per training step", "64", "n"),
                new("--model", "Trainer:Model:Name", "Architecture: convnet, wrn, resnet18/34/50/101/152, wide_resnet50_2, mobilenet_v2", ModelFamilies.ConvNet, "name"),
                Device,
            ],
            builder => builder.AddTeacherJob()),
        new(
            Distill,
            "Distil a student from the teacher's soft targets",
            "Distil a student offline from committed Labeler shards (soft targets cached by the teacher) plus the dataset's labeled train split, evaluating on its test split each epoch. Resumes from the last checkpoint in --output.",
            [
                Dataset,
                Preset,
                new("--shards", "Trainer:Distill:Shards:Locations:0", "Labeler output (or one teacher=<id>/ folder) with the soft targets; more with --Trainer:Distill:Shards:Locations:1=...", "file:out/labels/", "location"),
                new("--output", "Trainer:Distill:Output", "Folder for the student's checkpoints (best, last) and metrics.jsonl", "out/student", "folder"),
                new("--epochs", "Trainer:Distill:Epochs", "Training epochs", "30", "n"),
                new("--batch-size", "Trainer:Distill:BatchSize", "Images per training step (labeled + pseudo-labeled)", "128", "n"),
                new("--model", "Trainer:Distill:Model:Name", "Student architecture (width with --Trainer:Distill:Model:Width)", ModelFamilies.ConvNet, "name"),
                new("--objective", "Trainer:Objective:Name", "kd (Hinton), pseudo-ce (hard pseudo-labels, FixMatch style) or ce (labels only)", "kd", "name"),
                new("--min-confidence", "Trainer:Distill:Shards:MinConfidence", "Drop soft targets whose teacher confidence is lower", "0", "p"),
                new("--class-cap", "Trainer:Distill:Shards:ClassCap", "Per-class cap on pseudo-labeled rows: none, balance (smallest class) or a number", "none", "cap"),
                new("--mu", "Trainer:Distill:Mix:UnlabeledRatio", "Pseudo-labeled images per labeled image in a batch (none = the sets' own ratio)", "none", "ratio"),
                new("--teacher", "Trainer:Distill:Teacher", "Online distillation: teacher checkpoint run on every batch (frozen, eval mode, on the student's augmented input); no shards are read (none = offline). 'self': the student labels each batch itself (FixMatch with --objective pseudo-ce and --Trainer:Distill:Augment:StrongPool=true). Add the dataset's unlabeled/ pool with --Trainer:Distill:OnlinePool=true", "none", "path"),
                Device,
            ],
            builder => builder.AddDistillJob()),
        new(
            Sweep,
            "Run a grid of distill runs and summarise them",
            "Run a grid of distill runs (every combination of the --grid values), each into its own folder <output>/point-NNN, one after another in this process; then write sweep.json, sweep.md and heatmap.png of the best evaluation accuracy. Rerunning skips finished points and resumes an interrupted one. Every distill setting (--Trainer:Distill:..., --Trainer:Objective:..., --dataset, --shards) applies to all points.",
            [
                new("--grid", "Trainer:Sweep:Grid", "An axis: a distill setting and its comma-separated values, e.g. Trainer:Objective:Curriculum:TemperatureStart=2,4,6,8", "none", "key=v1,v2", Repeatable: true),
                new("--output", "Trainer:Sweep:Output", "Folder for the point folders and the summary", "out/sweep", "folder"),
                new("--index", "Trainer:Sweep:Index", "Run only grid point N (0-based; scale-out: one point per job index); the run finishing the last point writes the summary", "none", "n"),
                Dataset,
                new("--shards", "Trainer:Distill:Shards:Locations:0", "Labeler output with the soft targets (as for distill)", "file:out/labels/", "location"),
                new("--epochs", "Trainer:Distill:Epochs", "Training epochs of every point", "30", "n"),
                new("--batch-size", "Trainer:Distill:BatchSize", "Images per training step", "128", "n"),
                new("--model", "Trainer:Distill:Model:Name", "Student architecture", ModelFamilies.ConvNet, "name"),
                new("--objective", "Trainer:Objective:Name", "kd, pseudo-ce or ce", "kd", "name"),
                Device,
            ],
            builder => builder.AddSweepJob()),
        new(
            Prune,
            "Prune a checkpoint's channels, fine-tuning with KD",
            $"Prune a checkpoint's conv channels (structured; the model is rebuilt smaller) to a share of its MACs or parameters in steps, fine-tuning with KD from the Labeler's shards after each step. Families: {string.Join(", ", PruningLayouts.Supported)}. Resumes per step from --output.",
            [
                new("--checkpoint", "Trainer:Prune:Checkpoint", "Checkpoint record to prune (a distilled student)", "out/student/last.json", "path"),
                new("--output", "Trainer:Prune:Output", "Folder for step-N/ (start, last, best, metrics.jsonl) and the final pruned.json", "out/pruned", "folder"),
                new("--target-macs", "Trainer:Prune:TargetMacs", "Target share of the input's MACs per image, in (0, 1]; none = 0.5 unless --target-params is given", "none", "share"),
                new("--target-params", "Trainer:Prune:TargetParams", "Target share of the input's parameters instead, in (0, 1]", "none", "share"),
                new("--criterion", "Trainer:Prune:Criterion", "Channel importance: l1 (filter L1 norm) or bn (BatchNorm |gamma|)", "l1", "name"),
                new("--scope", "Trainer:Prune:Scope", "global (one ranking, scores relative to their layer's mean) or layer (same share per layer)", "global", "scope"),
                new("--steps", "Trainer:Prune:Steps", "Prune steps, each followed by a KD fine-tune (step k reaches target^(k/steps))", "3", "n"),
                new("--fine-tune-epochs", "Trainer:Prune:Epochs", "KD fine-tune epochs after each step", "5", "n"),
                Dataset,
                new("--shards", "Trainer:Distill:Shards:Locations:0", "Labeler output (or one teacher=<id>/ folder) with the soft targets, as for distill", "file:out/labels/", "location"),
                new("--batch-size", "Trainer:Prune:BatchSize", "Images per fine-tune step (labeled + pseudo-labeled)", "128", "n"),
                new("--objective", "Trainer:Objective:Name", "Fine-tune objective: kd (Hinton), pseudo-ce or ce", "kd", "name"),
                Device,
            ],
            builder => builder.AddPruneJob()),
        new(
            SelfTrain,
            "Noisy Student self-training, round after round",
            "Noisy Student self-training: each round the teacher labels the dataset's pool and labeled images through the Labeler engine (incremental under teacher=<id>/), a noised student (replayed random crops and flips, dropout) of equal or larger size is distilled from them by the distill stage (every --Trainer:Distill:* setting applies) and becomes the next round's teacher. Writes a per-round table (teacher, pseudo-label and student accuracy); a rerun skips finished rounds and resumes an interrupted one.",
            [
                Dataset,
                new("--teacher", "Trainer:SelfTrain:Teacher", "Round 1's teacher checkpoint record (required)", "none", "path"),
                new("--rounds", "Trainer:SelfTrain:Rounds", "Rounds of label-then-distil", "3", "n"),
                new("--output", "Trainer:SelfTrain:Output", "Folder for labels/, round-N/ (students, evaluations) and the table (selftrain.md, selftrain.json)", "out/selftrain", "folder"),
                new("--model", "Trainer:SelfTrain:Model", "Student architecture (none = the teacher's; its unset settings are the teacher's, so the same size)", "none", "name"),
                new("--width", "Trainer:SelfTrain:Width", "Student convnet width (none = the teacher's); depth and wrn widen factor with --Trainer:SelfTrain:Depth / WidenFactor", "none", "n"),
                new("--widths", "Trainer:SelfTrain:Widths", "Student convnet width per round, comma-separated (e.g. 64,96,128; rounds past the list keep the last); exclusive with --width", "none", "list"),
                new("--epochs", "Trainer:SelfTrain:Epochs", "Distillation epochs per round", "12", "n"),
                new("--batch-size", "Trainer:Distill:BatchSize", "Images per distillation step", "128", "n"),
                new("--drop-rate", "Trainer:SelfTrain:DropRate", "Student dropout (convnet: before the classifier; wrn: in every block); 0 for other architectures", "0.5", "p"),
                new("--views", "Trainer:SelfTrain:Views", "Views the teacher labels per image: random resized crops (+ flip) replayed as the student's augmentation; 1 = whole image", "4", "n"),
                new("--view-scale-min", "Trainer:SelfTrain:ViewScaleMin", "Smallest crop area as a share of the image", "0.64", "p"),
                Device,
            ],
            builder => builder.AddSelfTrainJob()),
        new(
            Pipeline,
            "Distill, prune, quantize and export in one resumable run",
            "The whole compression recipe in one resumable run: distill -> prune (with its KD fine-tune) -> int8 quantize (PTQ; QAT too with --qat true) -> export with every variant measured (student, pruned, int8) and a model card. Each stage is its own command run in process, into <output>/1-distill, 2-prune, 3-quantize, 4-export; pipeline.json records the finished stages (record paths and SHA-256), so a rerun skips them and resumes an interrupted one. Every stage setting (--Trainer:Distill:..., --Trainer:Prune:..., --Trainer:Quantize:..., --Trainer:Export:...) applies; the defaults are small, for the committed sample.",
            [
                Dataset,
                new("--shards", "Trainer:Distill:Shards:Locations:0", "Labeler output with the teacher's soft targets (distill, prune fine-tune and QAT read it)", "file:out/labels/", "location"),
                new("--output", "Trainer:Pipeline:Output", "Folder for the stage folders and pipeline.json", "out/pipeline", "folder"),
                new("--checkpoint", "Trainer:Pipeline:Checkpoint", "Start from this student checkpoint record: the distill stage is skipped", "none", "path"),
                new("--skip-distill", "Trainer:Pipeline:SkipDistill", "Skip the distill stage (needs --checkpoint)", "False", "bool"),
                new("--model", "Trainer:Distill:Model:Name", "Student architecture (width with --Trainer:Distill:Model:Width)", ModelFamilies.ConvNet, "name"),
                new("--epochs", "Trainer:Pipeline:Epochs", "Distillation epochs", "20", "n"),
                new("--target-macs", "Trainer:Pipeline:TargetMacs", "Prune target: share of the student's MACs per image, in (0, 1]", "0.5", "share"),
                new("--prune-steps", "Trainer:Pipeline:PruneSteps", "Prune steps, each followed by a KD fine-tune", "2", "n"),
                new("--fine-tune-epochs", "Trainer:Pipeline:FineTuneEpochs", "KD fine-tune epochs after each prune step", "3", "n"),
                new("--criterion", "Trainer:Prune:Criterion", "Channel importance: l1 or bn", "l1", "name"),
                new("--qat", "Trainer:Pipeline:Qat", "Also quantization-aware training with KD (convnet); its int8 model is exported, PTQ's compared", "False", "bool"),
                new("--qat-epochs", "Trainer:Pipeline:QatEpochs", "QAT epochs", "1", "n"),
                new("--calibration", "Trainer:Quantize:Calibration", "Activation ranges: minmax, percentile or entropy", "minmax", "method"),
                new("--calibration-images", "Trainer:Quantize:CalibrationImages", "Calibration images drawn (seeded) from the train split", "512", "n"),
                new("--iterations", "Trainer:Pipeline:Iterations", "Timed calls per batch size of every variant in the export", "100", "n"),
                new("--threads", "Trainer:Export:Threads", "Intra-op threads of every engine while measuring", "1", "n"),
                new("--publish", "Trainer:Export:Publish", "Store location to publish the export to (for the Labeler)", "none", "location"),
                Device,
            ],
            builder => builder.AddPipelineJob()),
        new(
            Import,
            "Import an IDX dataset (Fashion-MNIST) into a store",
            "Import an IDX dataset (Fashion-MNIST by default) into a store: a labeled train split, an unlabeled pool and the test set.",
            [
                new("--source", "Trainer:Import:Source", "Folder with the four IDX files (plain or .gz)", "/usr/share/datasets/fashion-mnist", "folder"),
                new("--dest", "Trainer:Import:Destination", "Store location to import into", "file:data/fashion-mnist/", "location"),
                new("--labeled-fraction", "Trainer:Import:LabeledFraction", "Share of each train class that is labeled; the rest becomes the unlabeled pool", "0.1", "fraction"),
                new("--seed", "Trainer:Import:Seed", "Seed of the labeled/pool split", "42", "n"),
                new("--classes", "Trainer:Import:Classes", "Class names preset: fashion-mnist, mnist or numbers", "fashion-mnist", "preset"),
                new("--train-limit", "Trainer:Import:TrainLimit", "Only the first N train images (0 = all)", "0", "n"),
                new("--test-limit", "Trainer:Import:TestLimit", "Only the first N test images (0 = all)", "0", "n"),
                new("--format", "Trainer:Import:Format", "How images are stored: Loose (one PNG each), Parquet or Tar (packed shards); any case", "Loose", "format"),
                new("--shard-size", "Trainer:Import:ShardSize", "Most images per Parquet or tar shard", "10000", "n"),
            ],
            builder => builder.AddImportJob()),
        new(
            Evaluate,
            "Evaluate a checkpoint: accuracy, calibration, charts",
            "Evaluate a checkpoint on a labels manifest (default: the dataset's test split): accuracy, per-class accuracy, confusion matrix, NLL, calibration (ECE, reliability diagram); agreement and KL against a teacher; pseudo-label accuracy of a shard set. Writes evaluation.json and PNG charts.",
            [
                new("--checkpoint", "Trainer:Evaluate:Checkpoint", "Checkpoint record to evaluate (its folder's metrics.jsonl gives the learning curves)", "out/teacher/best.json", "path"),
                Dataset,
                new("--manifest", "Trainer:Evaluate:Manifest", "Labels manifest key within the dataset", "manifest.parquet", "key"),
                new("--split", "Trainer:Evaluate:Split", "Split of the manifest to evaluate (empty = every row)", "test", "split"),
                new("--teacher", "Trainer:Evaluate:Teacher", "Teacher checkpoint record: top-1 agreement and KL(teacher || student) on the same images", "none", "path"),
                new("--shards", "Trainer:Evaluate:Shards", "Labeler output or teacher=<id>/ folder: pseudo-label accuracy against the dataset's pool-labels.parquet", "none", "location"),
                new("--output", "Trainer:Evaluate:Output", "Folder for evaluation.json and the charts", "out/evaluation", "folder"),
                new("--batch-size", "Trainer:Evaluate:BatchSize", "Images per forward pass", "256", "n"),
                Device,
            ],
            builder => builder.AddEvaluateJob()),
        new(
            Ensemble,
            "Join trained checkpoints into one ensemble teacher",
            "Join two or more trained checkpoints (same classes, same preprocessing) into one ensemble checkpoint whose output is the log of the members' mean probabilities: the Labeler, evaluate, distill --teacher and selftrain --teacher take it as a teacher. Writes ensemble.json + ensemble.safetensors (every member's weights) with the members and the labeling cost (parameters, MACs) in the record.",
            [
                new("--members", "Trainer:Ensemble:Members", "Member checkpoint records, comma-separated (two or more)", "none", "paths"),
                new("--output", "Trainer:Ensemble:Output", "Folder for ensemble.json and ensemble.safetensors", "out/ensemble", "folder"),
            ],
            builder => builder.AddEnsembleJob()),
        new(
            Quantize,
            "Quantize a checkpoint to int8 ONNX (PTQ or QAT)",
            "Quantize a checkpoint to int8: export the fp32 ONNX model (BatchNorm folded), calibrate activation ranges on training images, write the QDQ model (uint8 activations, per-channel int8 weights) and compare fp32 and int8 in ONNX Runtime on the test split (accuracy, ECE, agreement, file size) -> model.int8.onnx, model.fp32.onnx, quantization.json.",
            [
                new("--checkpoint", "Trainer:Quantize:Checkpoint", "fp32 checkpoint record to quantize", "out/student/last.json", "path"),
                Dataset,
                new("--output", "Trainer:Quantize:Output", "Folder for model.int8.onnx, model.fp32.onnx and quantization.json", "out/quantized", "folder"),
                new("--method", "Trainer:Quantize:Method", "ptq (post-training) or qat (quantization-aware training with KD)", "ptq", "method"),
                new("--calibration", "Trainer:Quantize:Calibration", "Activation ranges: minmax, percentile or entropy", "minmax", "method"),
                new("--calibration-images", "Trainer:Quantize:CalibrationImages", "Calibration images drawn (seeded) from the train split", "512", "n"),
                new("--percentile", "Trainer:Quantize:Percentile", "Percent of values kept on each side by the percentile method", "99.99", "p"),
                new("--threads", "Trainer:Quantize:Threads", "ONNX Runtime intra-op threads (0 = its choice)", "0", "n"),
                new("--shards", "Trainer:Distill:Shards:Locations:0", "qat: Labeler output with the teacher's soft targets (the KD objective of distill)", "file:out/labels/", "location"),
                new("--qat-epochs", "Trainer:Quantize:Qat:Epochs", "qat: training epochs", "3", "n"),
                new("--qat-learning-rate", "Trainer:Quantize:Qat:LearningRate", "qat: peak learning rate (AdamW, cosine, no warm-up)", "0.0001", "lr"),
            ],
            builder => builder.AddQuantizeJob()),
        new(
            Export,
            "Export a checkpoint to ONNX, measured, with a card",
            "Export a checkpoint for deployment: model.onnx (opset 17, input 'input' [batch, C, H, W], output 'logits', BatchNorm folded; checked against TorchSharp), safetensors + record, export.json with latency P50/P95/P99 at batch 1 and 64 (TorchSharp fp32, ONNX Runtime fp32, int8 when model.int8.onnx exists), size, MACs and peak memory, and model-card.md with charts; optionally published to a store location for the Labeler.",
            [
                new("--checkpoint", "Trainer:Export:Checkpoint", "Checkpoint record to export", "out/student/best.json", "path"),
                new("--output", "Trainer:Export:Output", "Folder for model.onnx, model.safetensors/json, export.json, model-card.md and charts", "out/export", "folder"),
                new("--publish", "Trainer:Export:Publish", "Store location (file:, az://, https://) to copy the export to; the Labeler takes <location>model.json as its teacher", "none", "location"),
                new("--dataset", "Trainer:Export:Dataset", "Dataset root to evaluate on (accuracy, per class, confusion, ECE) and to draw parity/timing images from", "none", "location"),
                new("--split", "Trainer:Export:Split", "Split of the dataset's manifest to evaluate", "test", "split"),
                new("--measure", "Trainer:Export:Measure", "Time every variant (latency, throughput, peak memory); false skips timing", "True", "bool"),
                new("--threads", "Trainer:Export:Threads", "Intra-op threads of every engine while measuring", "1", "n"),
                new("--iterations", "Trainer:Export:Iterations", "Timed calls per batch size (after Trainer:Export:Warmup = 20 untimed ones)", "200", "n"),
                new("--int8", "Trainer:Export:Int8Model", "int8 ONNX model to measure too (default: model.int8.onnx in --output or beside the checkpoint, if present)", "none", "path"),
                new("--compare", "Trainer:Export:Compare", "Other variants for the table and charts, comma-separated: checkpoint records (.json) or ONNX models (.onnx)", "none", "paths"),
            ],
            builder => builder.AddExportJob()),
    ];

    /// <summary>The command named <paramref name="name"/> (ordinal, as typed), or null.</summary>
    public static TrainerCommand? Find(string name) => All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
}

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
    public const string SelfTrain = "selftrain";

    /// <summary>
    /// The command run when none is given: <c>dotnet run --project src/Trainer</c> after <c>dotnet run --project src/Labeler</c>
    /// distils the default student from the committed sample and the Labeler's default output.
    /// </summary>
    public const string Default = Distill;

    private static readonly TrainerSwitch Device = new("--device", "Torch:Device", "Torch device: auto, cpu, cuda or cuda:N", "auto", "device");

    private static readonly TrainerSwitch Dataset = new("--dataset", "Trainer:Data:Dataset", "Dataset root location (manifest.parquet, classes.json, images)", "file:samples/fashion-mnist/", "location");

    public static IReadOnlyList<TrainerCommand> All { get; } =
    [
        new(
            Teacher,
            "Train the teacher on the dataset's labeled train split, evaluating on its test split each epoch (the default command). Resumes from the last checkpoint in --output.",
            [
                Dataset,
                new("--output", "Trainer:Output", "Folder for checkpoints (best, last) and metrics.jsonl", "out/teacher", "folder"),
                new("--epochs", "Trainer:Teacher:Epochs", "Training epochs", "30", "n"),
                new("--batch-size", "Trainer:Teacher:BatchSize", "Images per training step", "64", "n"),
                new("--model", "Trainer:Model:Name", "Architecture: convnet, wrn, resnet18/34/50/101/152, wide_resnet50_2, mobilenet_v2", "convnet", "name"),
                Device,
            ],
            builder => builder.AddTeacherJob()),
        new(
            Distill,
            "Distil a student offline from committed Labeler shards (soft targets cached by the teacher) plus the dataset's labeled train split, evaluating on its test split each epoch (the default command). Resumes from the last checkpoint in --output.",
            [
                Dataset,
                new("--shards", "Trainer:Distill:Shards:Locations:0", "Labeler output (or one teacher=<id>/ folder) with the soft targets; more with --Trainer:Distill:Shards:Locations:1=...", "file:out/labels/", "location"),
                new("--output", "Trainer:Distill:Output", "Folder for the student's checkpoints (best, last) and metrics.jsonl", "out/student", "folder"),
                new("--epochs", "Trainer:Distill:Epochs", "Training epochs", "30", "n"),
                new("--batch-size", "Trainer:Distill:BatchSize", "Images per training step (labeled + pseudo-labeled)", "128", "n"),
                new("--model", "Trainer:Distill:Model:Name", "Student architecture (width with --Trainer:Distill:Model:Width)", "convnet", "name"),
                new("--objective", "Trainer:Objective:Name", "kd (Hinton), pseudo-ce (hard pseudo-labels, FixMatch style) or ce (labels only)", "kd", "name"),
                new("--min-confidence", "Trainer:Distill:Shards:MinConfidence", "Drop soft targets whose teacher confidence is lower", "0", "p"),
                new("--class-cap", "Trainer:Distill:Shards:ClassCap", "Per-class cap on pseudo-labeled rows: none, balance (smallest class) or a number", "none", "cap"),
                new("--mu", "Trainer:Distill:Mix:UnlabeledRatio", "Pseudo-labeled images per labeled image in a batch (none = the sets' own ratio)", "none", "ratio"),
                Device,
            ],
            builder => builder.AddDistillJob()),
        new(
            SelfTrain,
            "Noisy Student self-training: each round the teacher labels the dataset's pool and labeled images through the Labeler engine (incremental under teacher=<id>/), a noised student (replayed random crops and flips, dropout) of equal or larger size is distilled from them by the distill stage (every --Trainer:Distill:* setting applies) and becomes the next round's teacher. Writes a per-round table (teacher, pseudo-label and student accuracy); a rerun skips finished rounds and resumes an interrupted one.",
            [
                Dataset,
                new("--teacher", "Trainer:SelfTrain:Teacher", "Round 1's teacher checkpoint record (required)", "none", "path"),
                new("--rounds", "Trainer:SelfTrain:Rounds", "Rounds of label-then-distil", "3", "n"),
                new("--output", "Trainer:SelfTrain:Output", "Folder for labels/, round-N/ (students, evaluations) and the table (selftrain.md, selftrain.json)", "out/selftrain", "folder"),
                new("--model", "Trainer:SelfTrain:Model", "Student architecture (none = the teacher's; its unset settings are the teacher's, so the same size)", "none", "name"),
                new("--width", "Trainer:SelfTrain:Width", "Student convnet width (none = the teacher's); depth and wrn widen factor with --Trainer:SelfTrain:Depth / WidenFactor", "none", "n"),
                new("--epochs", "Trainer:SelfTrain:Epochs", "Distillation epochs per round", "12", "n"),
                new("--batch-size", "Trainer:Distill:BatchSize", "Images per distillation step", "128", "n"),
                new("--drop-rate", "Trainer:SelfTrain:DropRate", "Student dropout (convnet: before the classifier; wrn: in every block); 0 for other architectures", "0.5", "p"),
                new("--views", "Trainer:SelfTrain:Views", "Views the teacher labels per image: random resized crops (+ flip) replayed as the student's augmentation; 1 = whole image", "4", "n"),
                new("--view-scale-min", "Trainer:SelfTrain:ViewScaleMin", "Smallest crop area as a share of the image", "0.64", "p"),
                Device,
            ],
            builder => builder.AddSelfTrainJob()),
        new(
            Import,
            "Import an IDX dataset (Fashion-MNIST by default) into a store: a labeled train split, an unlabeled pool and the test set.",
            [
                new("--source", "Import:Source", "Folder with the four IDX files (plain or .gz)", "/usr/share/datasets/fashion-mnist", "folder"),
                new("--dest", "Import:Destination", "Store location to import into", "file:data/fashion-mnist/", "location"),
                new("--labeled-fraction", "Import:LabeledFraction", "Share of each train class that is labeled; the rest becomes the unlabeled pool", "0.1", "fraction"),
                new("--seed", "Import:Seed", "Seed of the labeled/pool split", "42", "n"),
                new("--classes", "Import:Classes", "Class names preset: fashion-mnist, mnist or numbers", "fashion-mnist", "preset"),
                new("--train-limit", "Import:TrainLimit", "Only the first N train images (0 = all)", "0", "n"),
                new("--test-limit", "Import:TestLimit", "Only the first N test images (0 = all)", "0", "n"),
            ],
            builder => builder.AddImportJob()),
        new(
            Evaluate,
            "Evaluate a checkpoint on a labels manifest (default: the dataset's test split): accuracy, per-class accuracy, confusion matrix, NLL, calibration (ECE, reliability diagram); agreement and KL against a teacher; pseudo-label accuracy of a shard set. Writes evaluation.json and PNG charts.",
            [
                new("--checkpoint", "Evaluate:Checkpoint", "Checkpoint record to evaluate (its folder's metrics.jsonl gives the learning curves)", "out/teacher/best.json", "path"),
                Dataset,
                new("--manifest", "Evaluate:Manifest", "Labels manifest key within the dataset", "manifest.parquet", "key"),
                new("--split", "Evaluate:Split", "Split of the manifest to evaluate (empty = every row)", "test", "split"),
                new("--teacher", "Evaluate:Teacher", "Teacher checkpoint record: top-1 agreement and KL(teacher || student) on the same images", "none", "path"),
                new("--shards", "Evaluate:Shards", "Labeler output or teacher=<id>/ folder: pseudo-label accuracy against the dataset's pool-labels.parquet", "none", "location"),
                new("--output", "Evaluate:Output", "Folder for evaluation.json and the charts", "out/evaluation", "folder"),
                new("--batch-size", "Evaluate:BatchSize", "Images per forward pass", "256", "n"),
                Device,
            ],
            builder => builder.AddEvaluateJob()),
    ];

    /// <summary>The command named <paramref name="name"/> (ordinal, as typed), or null.</summary>
    public static TrainerCommand? Find(string name) => All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));
}

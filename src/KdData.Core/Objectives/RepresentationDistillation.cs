using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// The representation-KD terms of a run (FitNets hints, attention transfer, RKD, CRD; see <see cref="RepresentationOptions"/>),
/// added to the objective's loss with their weights: <c>L = L_objective + w_hint L_hint + w_at L_AT + w_rkd L_RKD + w_crd L_CRD</c>.
/// It taps the student and the online teacher with <see cref="FeatureTaps"/> (forward hooks on the configured module
/// paths) and owns the trained parts (hint adapter, CRD heads and memory banks), which are its submodules: they join
/// the optimizer and are saved beside each checkpoint. The networks themselves are not submodules.
/// <para>
/// Per training step: <see cref="Begin"/>, the teacher's and the student's forward passes (the taps capture), then
/// <see cref="Compute"/> (inside the step's dispose scope), then <see cref="Clear"/>.
/// </para>
/// </summary>
public sealed class RepresentationDistillation : nn.Module
{
    private readonly RepresentationOptions _options;
    private readonly FeatureTaps _studentTaps;
    private readonly FeatureTaps _teacherTaps;
    private readonly HintLoss? _hint;
    private readonly ContrastiveRepresentationLoss? _crd;
    private readonly IReadOnlyList<(string Student, string Teacher)> _attentionPairs;

    private RepresentationDistillation(RepresentationOptions options, FeatureTaps studentTaps, FeatureTaps teacherTaps, HintLoss? hint,
        ContrastiveRepresentationLoss? crd, IReadOnlyList<(string, string)> attentionPairs)
        : base(nameof(RepresentationDistillation))
    {
        _options = options;
        _studentTaps = studentTaps;
        _teacherTaps = teacherTaps;
        _hint = hint;
        _crd = crd;
        _attentionPairs = attentionPairs;
        if (hint is not null)
        {
            register_module("hint", hint);
        }
        if (crd is not null)
        {
            register_module("crd", crd);
        }
    }

    /// <summary>The enabled terms, in order.</summary>
    public IReadOnlyList<string> Terms => _options.EnabledTerms;

    /// <summary>The hint term (its adapter), when enabled.</summary>
    public HintLoss? Hint => _hint;

    /// <summary>The CRD term (heads and banks), when enabled.</summary>
    public ContrastiveRepresentationLoss? Crd => _crd;

    /// <summary>
    /// Taps <paramref name="student"/> and <paramref name="teacher"/> at the configured paths and builds the trained parts,
    /// sized by one probe forward pass of each network on a zero batch (eval mode, no grad: BatchNorm statistics are
    /// untouched; the student's mode is restored). Call after the student's weights are initialised: the parts' own
    /// initialisation draws from the global generator.
    /// </summary>
    /// <param name="options">Which terms, their weights and layers.</param>
    /// <param name="student">The student (tapped; not owned).</param>
    /// <param name="teacher">The online teacher's network (tapped; not owned).</param>
    /// <param name="channels">Input channels of the probe batch.</param>
    /// <param name="height">Input height of the probe batch.</param>
    /// <param name="width">Input width of the probe batch.</param>
    /// <param name="trainingImages">Images in the training set: caps the CRD bank.</param>
    /// <param name="device">Device of both networks; default CPU.</param>
    /// <exception cref="Hosting.InvalidInputException">A module path is not in its network (the message lists the valid ones),
    /// or a tapped layer's output does not fit its term (e.g. a hint layer that is not a 4-D feature map).</exception>
    public static RepresentationDistillation Create(RepresentationOptions options, nn.Module<Tensor, Tensor> student, nn.Module<Tensor, Tensor> teacher,
        long channels, long height, long width, long trainingImages, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var attention = options.Attention.Enabled
            ? RepresentationOptions.SplitLayers(options.Attention.StudentLayers).Zip(RepresentationOptions.SplitLayers(options.Attention.TeacherLayers)).ToList()
            : [];
        var studentPaths = new List<string>();
        var teacherPaths = new List<string>();
        if (options.Hint.Enabled)
        {
            studentPaths.Add(options.Hint.StudentLayer);
            teacherPaths.Add(options.Hint.TeacherLayer);
        }
        studentPaths.AddRange(attention.Select(p => p.First));
        teacherPaths.AddRange(attention.Select(p => p.Second));
        if (options.Rkd.Enabled)
        {
            studentPaths.Add(options.Rkd.StudentLayer);
            teacherPaths.Add(options.Rkd.TeacherLayer);
        }
        if (options.Crd.Enabled)
        {
            studentPaths.Add(options.Crd.StudentLayer);
            teacherPaths.Add(options.Crd.TeacherLayer);
        }

        var studentTaps = new FeatureTaps(student, studentPaths, "Trainer:Objective (student layer)");
        FeatureTaps? teacherTaps = null;
        try
        {
            teacherTaps = new FeatureTaps(teacher, teacherPaths, "Trainer:Objective (teacher layer)");
            return Build(options, studentTaps, teacherTaps, attention, studentPaths, teacherPaths, student, teacher, channels, height, width, trainingImages, device);
        }
        catch
        {
            // A bad layer leaves no hooks behind on either network.
            studentTaps.Dispose();
            teacherTaps?.Dispose();
            throw;
        }
    }

    private static RepresentationDistillation Build(RepresentationOptions options, FeatureTaps studentTaps, FeatureTaps teacherTaps,
        List<(string First, string Second)> attention, List<string> studentPaths, List<string> teacherPaths,
        nn.Module<Tensor, Tensor> student, nn.Module<Tensor, Tensor> teacher, long channels, long height, long width, long trainingImages, Device? device)
    {
        var shapes = Probe(student, teacher, studentTaps, teacherTaps, studentPaths, teacherPaths, channels, height, width, device ?? CPU);

        HintLoss? hint = null;
        if (options.Hint.Enabled)
        {
            var s = shapes.Student[options.Hint.StudentLayer];
            var t = shapes.Teacher[options.Hint.TeacherLayer];
            RequireMap(s, "Trainer:Objective:Hint:StudentLayer", options.Hint.StudentLayer);
            RequireMap(t, "Trainer:Objective:Hint:TeacherLayer", options.Hint.TeacherLayer);
            hint = new HintLoss(s[1], t[1]);
        }
        foreach (var (s, t) in attention)
        {
            RequireMap(shapes.Student[s], "Trainer:Objective:Attention:StudentLayers", s);
            RequireMap(shapes.Teacher[t], "Trainer:Objective:Attention:TeacherLayers", t);
        }
        ContrastiveRepresentationLoss? crd = null;
        if (options.Crd.Enabled)
        {
            var bank = Math.Max(2, Math.Min(options.Crd.BankSize, trainingImages));
            crd = new ContrastiveRepresentationLoss(
                Features(shapes.Student[options.Crd.StudentLayer]), Features(shapes.Teacher[options.Crd.TeacherLayer]),
                options.Crd.Dim, bank, options.Crd.Temperature, options.Crd.Momentum);
        }

        var module = new RepresentationDistillation(options, studentTaps, teacherTaps, hint, crd, [.. attention.Select(p => (p.First, p.Second))]);
        if (device is not null && device.type != DeviceType.CPU)
        {
            module.to(device);
        }
        return module;
    }

    /// <summary>Settings and sizes for the checkpoint record.</summary>
    public JsonObject Describe() => new()
    {
        ["terms"] = new JsonArray([.. Terms.Select(t => (JsonNode?)t)]),
        ["hint"] = _hint is null ? null : new JsonObject
        {
            ["weight"] = _options.Hint.Weight, ["student_layer"] = _options.Hint.StudentLayer, ["teacher_layer"] = _options.Hint.TeacherLayer,
            ["adapter"] = $"conv1x1 {_hint.Adapter.in_channels} -> {_hint.Adapter.out_channels}",
        },
        ["attention"] = _attentionPairs.Count == 0 ? null : new JsonObject
        {
            ["weight"] = _options.Attention.Weight, ["beta"] = _options.Attention.Beta,
            ["pairs"] = new JsonArray([.. _attentionPairs.Select(p => (JsonNode?)$"{p.Student}={p.Teacher}")]),
        },
        ["rkd"] = !_options.Rkd.Enabled ? null : new JsonObject
        {
            ["weight"] = _options.Rkd.Weight, ["distance_weight"] = _options.Rkd.DistanceWeight, ["angle_weight"] = _options.Rkd.AngleWeight,
            ["student_layer"] = _options.Rkd.StudentLayer, ["teacher_layer"] = _options.Rkd.TeacherLayer,
        },
        ["crd"] = _crd is null ? null : new JsonObject
        {
            ["weight"] = _options.Crd.Weight, ["dim"] = _options.Crd.Dim, ["bank_size"] = _crd.BankSize, ["bank_bytes"] = _crd.BankBytes,
            ["temperature"] = _crd.Temperature, ["momentum"] = _crd.Momentum,
            ["student_layer"] = _options.Crd.StudentLayer, ["teacher_layer"] = _options.Crd.TeacherLayer,
        },
    };

    /// <summary>Starts a step: the next forward passes of both networks are captured.</summary>
    public void Begin()
    {
        _studentTaps.Begin();
        _teacherTaps.Begin();
    }

    /// <summary>Ends a step: disposes the captured features.</summary>
    public void Clear()
    {
        _studentTaps.Clear();
        _teacherTaps.Clear();
    }

    /// <summary>
    /// The weighted sum of the enabled terms for the features captured since <see cref="Begin"/> (a scalar with grad),
    /// and each term's unweighted value. <paramref name="sampleIds"/> (N, int64) is needed by CRD only.
    /// </summary>
    /// <exception cref="InvalidOperationException">CRD is enabled and the batch carries no sample ids.</exception>
    public (Tensor Loss, IReadOnlyDictionary<string, double> Terms) Compute(Tensor? sampleIds)
    {
        var parts = new List<(string Name, double Weight, Tensor Value)>();
        if (_hint is not null)
        {
            parts.Add(("hint", _options.Hint.Weight, _hint.Compute(_studentTaps[_options.Hint.StudentLayer], _teacherTaps[_options.Hint.TeacherLayer])));
        }
        if (_attentionPairs.Count > 0)
        {
            var pairs = _attentionPairs.Select(p => (_studentTaps[p.Student], _teacherTaps[p.Teacher])).ToList();
            parts.Add(("attention", _options.Attention.Weight, AttentionTransferLoss.Compute(pairs, _options.Attention.Beta)));
        }
        if (_options.Rkd.Enabled)
        {
            parts.Add(("rkd", _options.Rkd.Weight, RelationalKdLoss.Compute(
                _studentTaps[_options.Rkd.StudentLayer].flatten(1), _teacherTaps[_options.Rkd.TeacherLayer].flatten(1),
                _options.Rkd.DistanceWeight, _options.Rkd.AngleWeight)));
        }
        if (_crd is not null)
        {
            var ids = sampleIds ?? throw new InvalidOperationException("CRD needs sample ids on every training batch (its memory bank is indexed by image).");
            parts.Add(("crd", _options.Crd.Weight, _crd.Compute(
                _studentTaps[_options.Crd.StudentLayer].flatten(1), _teacherTaps[_options.Crd.TeacherLayer].flatten(1), ids)));
        }

        var loss = parts.Select(p => HeldScalars.Mul(p.Value, p.Weight)).Aggregate(HeldScalars.Add);
        var host = LossTerms.ToHost([.. parts.Select(p => p.Value)]);
        var terms = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < parts.Count; i++)
        {
            terms[parts[i].Name] = host[i];
        }
        return (loss, terms);
    }

    /// <summary>The trained parts' state (adapter, heads, banks) in TorchSharp's module format.</summary>
    public byte[] SaveState()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            save(writer);
        }
        return buffer.ToArray();
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote (same configuration and sizes).</summary>
    public void LoadState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var reader = new BinaryReader(new MemoryStream(state, writable: false));
        load(reader);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _studentTaps.Dispose();
            _teacherTaps.Dispose();
        }
        base.Dispose(disposing);
    }

    private static (Dictionary<string, long[]> Student, Dictionary<string, long[]> Teacher) Probe(
        nn.Module<Tensor, Tensor> student, nn.Module<Tensor, Tensor> teacher, FeatureTaps studentTaps, FeatureTaps teacherTaps,
        IEnumerable<string> studentPaths, IEnumerable<string> teacherPaths, long channels, long height, long width, Device device)
    {
        var wasTraining = student.training;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        try
        {
            student.eval();
            teacher.eval();
            studentTaps.Begin();
            teacherTaps.Begin();
            var input = zeros(2, channels, height, width, device: device);
            student.call(input);
            teacher.call(input);
            return (studentPaths.Distinct().ToDictionary(p => p, p => studentTaps[p].shape),
                    teacherPaths.Distinct().ToDictionary(p => p, p => teacherTaps[p].shape));
        }
        finally
        {
            studentTaps.Clear();
            teacherTaps.Clear();
            student.train(wasTraining);
        }
    }

    private static void RequireMap(long[] shape, string key, string path)
    {
        if (shape.Length != 4)
        {
            throw new Hosting.InvalidInputException($"{key}: '{path}' outputs ({string.Join(", ", shape.Skip(1))}) per image, not a feature map (C, H, W).");
        }
    }

    private static long Features(long[] shape) => shape.Skip(1).Aggregate(1L, (a, b) => a * b);
}

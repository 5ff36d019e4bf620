using KdData.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Pruning;

/// <summary>
/// Structured channel pruning: scores every channel of every <see cref="ChannelGroup"/> with a
/// <see cref="PruningCriterion"/>, chooses the channels to keep (<see cref="PruningScope"/>, a ratio or a cost
/// target), and physically rebuilds the network smaller: a new model from <see cref="ModelZoo.Create"/> with the
/// pruned <see cref="ModelSpec.Channels"/>, into which the kept slices of every tensor are copied. Kept channels stay
/// in their original order, so pruning nothing reproduces the model exactly.
/// </summary>
public static class ChannelPruner
{
    /// <summary>Importance of every channel, per group (higher = more important).</summary>
    /// <exception cref="InvalidDataException">The model does not have the tensors the layout names.</exception>
    public static double[][] Score(nn.Module model, PruningLayout layout, PruningCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layout);
        var state = model.state_dict();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scores = new double[layout.Groups.Count][];
        for (var g = 0; g < layout.Groups.Count; g++)
        {
            var group = layout.Groups[g];
            var total = zeros(group.Size, ScalarType.Float64);
            var terms = 0;
            foreach (var axis in group.Axes.Where(a => a.Dim == 0))
            {
                var tensor = Lookup(state, axis.Tensor);
                var isFilter = tensor.dim() == 4;
                var isGamma = tensor.dim() == 1 && axis.Tensor.EndsWith(".weight", StringComparison.Ordinal);
                if ((criterion == PruningCriterion.L1 && isFilter) || (criterion == PruningCriterion.Bn && isGamma))
                {
                    var value = tensor.detach().cpu().to(ScalarType.Float64).abs();
                    total = total.add(isFilter ? value.sum([1, 2, 3]) : value);
                    terms++;
                }
            }
            if (terms == 0)
            {
                throw new InvalidDataException($"Channel group '{group.Name}' has no {(criterion == PruningCriterion.L1 ? "convolution filters" : "BatchNorm scales")} to score.");
            }
            scores[g] = total.data<double>().ToArray();
        }
        return scores;
    }

    /// <summary>
    /// The channels to keep in each group (ascending) when a share <paramref name="ratio"/> in [0, 1] of the channels is
    /// removed, lowest scores first; every group keeps at least one channel. Ties go to the lower index.
    /// </summary>
    public static int[][] Select(IReadOnlyList<double[]> scores, PruningScope scope, double ratio)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (!(ratio >= 0 && ratio <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The pruning ratio must be in [0, 1].");
        }
        var removed = scores.Select(s => new bool[s.Length]).ToArray();
        if (scope == PruningScope.Layer)
        {
            for (var g = 0; g < scores.Count; g++)
            {
                var count = Math.Min((int)Math.Floor(ratio * scores[g].Length), scores[g].Length - 1);
                foreach (var i in Ascending(scores[g]).Take(count))
                {
                    removed[g][i] = true;
                }
            }
        }
        else
        {
            var all = new List<(double Score, int Group, int Channel)>();
            for (var g = 0; g < scores.Count; g++)
            {
                var mean = scores[g].Average();
                var scale = mean > 0 ? 1 / mean : 1;
                all.AddRange(scores[g].Select((s, i) => (s * scale, g, i)));
            }
            var target = (int)Math.Floor(ratio * all.Count);
            var left = scores.Select(s => s.Length).ToArray();
            var done = 0;
            foreach (var (_, g, i) in all.OrderBy(c => c.Score).ThenBy(c => c.Group).ThenBy(c => c.Channel))
            {
                if (done == target)
                {
                    break;
                }
                if (left[g] > 1)
                {
                    removed[g][i] = true;
                    left[g]--;
                    done++;
                }
            }
        }
        return [.. removed.Select(r => Enumerable.Range(0, r.Length).Where(i => !r[i]).ToArray())];
    }

    /// <summary>
    /// The smallest removal ratio (to 1/1024) whose pruned architecture costs at most <paramref name="target"/> by
    /// <paramref name="cost"/> (MACs or parameters of a spec), and the channels it keeps. When even one channel per
    /// group costs more, that (ratio 1) is returned.
    /// </summary>
    public static (double Ratio, int[][] Keep) SelectForCost(PruningLayout layout, IReadOnlyList<double[]> scores, PruningScope scope,
        Func<ModelSpec, long> cost, long target)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(cost);
        long CostAt(double ratio) => cost(layout.WithSizes([.. Select(scores, scope, ratio).Select(k => k.Length)]));
        if (CostAt(0) <= target)
        {
            return (0, Select(scores, scope, 0));
        }
        double low = 0, high = 1;
        // Cost falls as the ratio grows (more channels removed, never added back); bisect for the boundary.
        for (var i = 0; i < 10; i++)
        {
            var middle = (low + high) / 2;
            if (CostAt(middle) <= target)
            {
                high = middle;
            }
            else
            {
                low = middle;
            }
        }
        return (high, Select(scores, scope, high));
    }

    /// <summary>
    /// Builds the smaller model keeping channels <paramref name="keep"/>[g] of each group and copies the kept slices of
    /// every tensor (weights and BatchNorm statistics) into it; the source is left untouched. The new model is on the
    /// CPU, in the source's training mode.
    /// </summary>
    /// <exception cref="InvalidDataException">The model's tensors do not match the layout.</exception>
    public static (nn.Module<Tensor, Tensor> Model, ModelSpec Spec) Rebuild(nn.Module<Tensor, Tensor> model, PruningLayout layout, IReadOnlyList<int[]> keep)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(keep);
        var spec = layout.WithSizes([.. keep.Select(k => k.Length)]);
        var axes = new Dictionary<string, List<(int Dim, int[] Keep)>>(StringComparer.Ordinal);
        for (var g = 0; g < layout.Groups.Count; g++)
        {
            foreach (var axis in layout.Groups[g].Axes)
            {
                if (!axes.TryGetValue(axis.Tensor, out var list))
                {
                    axes[axis.Tensor] = list = [];
                }
                list.Add((axis.Dim, keep[g]));
            }
        }

        var pruned = ModelZoo.Create(spec);
        try
        {
            var source = model.state_dict();
            var target = pruned.state_dict();
            var unknown = axes.Keys.FirstOrDefault(k => !target.ContainsKey(k));
            if (unknown is not null)
            {
                throw new InvalidDataException($"The pruning layout names tensor '{unknown}', which model '{spec.Name}' does not have.");
            }
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var (name, tensor) in target)
            {
                var slice = Lookup(source, name).detach().cpu();
                if (axes.TryGetValue(name, out var list))
                {
                    foreach (var (dim, kept) in list)
                    {
                        slice = slice.index_select(dim, torch.tensor(kept.Select(i => (long)i).ToArray()));
                    }
                }
                if (!slice.shape.SequenceEqual(tensor.shape))
                {
                    throw new InvalidDataException(
                        $"Tensor '{name}' is [{string.Join(", ", slice.shape)}] after pruning but the rebuilt model expects [{string.Join(", ", tensor.shape)}].");
                }
                tensor.copy_(slice);
            }
        }
        catch
        {
            pruned.Dispose();
            throw;
        }
        pruned.train(model.training);
        return (pruned, spec);
    }

    private static IEnumerable<int> Ascending(double[] scores) =>
        Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i);

    private static Tensor Lookup(Dictionary<string, Tensor> state, string name) =>
        state.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidDataException($"The model has no tensor '{name}' named by the pruning layout.");
}

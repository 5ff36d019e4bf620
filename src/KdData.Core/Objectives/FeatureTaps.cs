using KdData.Hosting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Captures the outputs of named submodules of a network during its forward pass, with forward hooks, for the
/// representation losses. A path is a module path as in the state dict (<c>features.1</c>, <c>layer3</c>,
/// <c>layer3.1.conv2</c>); the empty path <see cref="Penultimate"/> means the input of the network's last
/// <c>Linear</c> layer (the penultimate embedding, flattened), captured with a forward pre-hook.
/// <para>
/// Lifetime: a hook's output belongs to the dispose scope of the module that produced it (the zoo's modules open a
/// scope per forward and keep only their final output), so it would be disposed before the loss could read it. A tap
/// therefore keeps an alias of the output detached from every dispose scope (the alias shares the storage and the
/// autograd graph) and disposes it itself in <see cref="Clear"/>. Taps capture only between <see cref="Begin"/> and
/// <see cref="Clear"/> (the training step), so evaluation and complexity passes leave nothing behind.
/// </para>
/// Not thread-safe: the training thread drives it.
/// </summary>
public sealed class FeatureTaps : IDisposable
{
    /// <summary>The path that names the penultimate embedding: the input of the last <c>Linear</c> layer.</summary>
    public const string Penultimate = "";

    private readonly Dictionary<string, Tensor> _captured = new(StringComparer.Ordinal);
    private readonly List<Action> _removers = [];
    private bool _capturing;

    /// <param name="network">The network whose submodules are tapped.</param>
    /// <param name="paths">Module paths (<see cref="Penultimate"/> allowed); duplicates are tapped once.</param>
    /// <param name="settingKey">Configuration key that named the paths, for the error message.</param>
    /// <exception cref="InvalidInputException">A path names no submodule (the message lists the valid paths).</exception>
    public FeatureTaps(nn.Module network, IEnumerable<string> paths, string settingKey)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(paths);
        var modules = network.named_modules().Where(m => m.name.Length > 0).ToList();
        foreach (var path in paths.Distinct(StringComparer.Ordinal))
        {
            if (path == Penultimate)
            {
                if (network is Models.EnsembleModule)
                {
                    // The last Linear of an ensemble is its last member's: that member alone is not the teacher.
                    throw new InvalidInputException($"{settingKey}: an ensemble has no one penultimate embedding (each member has its own); name a member's layer: {string.Join(", ", ValidPaths(network))}.");
                }
                var last = modules.LastOrDefault(m => m.module is Linear).module as Linear
                    ?? throw new InvalidInputException($"{settingKey}: the penultimate embedding (empty path) is the input of the last Linear layer, but the network has none; name a layer: {string.Join(", ", modules.Select(m => m.name))}.");
                var pre = last.register_forward_pre_hook((_, input) =>
                {
                    Keep(Penultimate, input.flatten(1));
                    return input;
                });
                _removers.Add(pre.remove);
                continue;
            }

            var match = modules.FirstOrDefault(m => string.Equals(m.name, path, StringComparison.Ordinal)).module;
            if (match is not nn.Module<Tensor, Tensor> hookable)
            {
                throw new InvalidInputException(
                    $"{settingKey}: '{path}' is not a module path of the network; valid paths: {string.Join(", ", modules.Where(m => m.module is nn.Module<Tensor, Tensor>).Select(m => m.name))}.");
            }
            var post = hookable.register_forward_hook((_, _, output) =>
            {
                Keep(path, output);
                return output;
            });
            _removers.Add(post.remove);
        }
    }

    /// <summary>The module paths of <paramref name="network"/> that can be tapped (every submodule with one tensor in and out).</summary>
    public static IReadOnlyList<string> ValidPaths(nn.Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return [.. network.named_modules().Where(m => m.name.Length > 0 && m.module is nn.Module<Tensor, Tensor>).Select(m => m.name)];
    }

    /// <summary>Starts capturing (the next forward pass's outputs are kept until <see cref="Clear"/>).</summary>
    public void Begin()
    {
        Clear();
        _capturing = true;
    }

    /// <summary>The output captured at <paramref name="path"/> in this step's forward pass.</summary>
    /// <exception cref="InvalidOperationException">Nothing was captured there (no forward pass since <see cref="Begin"/>).</exception>
    public Tensor this[string path] => _captured.TryGetValue(path, out var value)
        ? value
        : throw new InvalidOperationException($"No feature was captured at '{(path.Length == 0 ? "<penultimate>" : path)}' in this step's forward pass.");

    /// <summary>Stops capturing and disposes what was captured.</summary>
    public void Clear()
    {
        _capturing = false;
        foreach (var tensor in _captured.Values)
        {
            tensor.Dispose();
        }
        _captured.Clear();
    }

    public void Dispose()
    {
        Clear();
        foreach (var remove in _removers)
        {
            remove();
        }
        _removers.Clear();
    }

    private void Keep(string path, Tensor output)
    {
        if (!_capturing)
        {
            return;
        }
        // A module called twice in one pass keeps its last output.
        if (_captured.Remove(path, out var previous))
        {
            previous.Dispose();
        }
        _captured[path] = output.alias().DetachFromDisposeScope();
    }
}

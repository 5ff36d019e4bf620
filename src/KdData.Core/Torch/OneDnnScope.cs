using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Torch;

/// <summary>
/// Turns LibTorch's oneDNN kernels on for one piece of work (a training run) when <see cref="TorchRuntime.Policy"/>
/// allows it, and off again when disposed. Under <see cref="OneDnnPolicy.Auto"/> it first runs the checks it is given
/// (<see cref="OneDnnSelfTest"/> on the models about to run) and stays off unless all agree.
/// <para>
/// The switch is process-wide, so one scope holds it at a time: a scope entered while another is open changes
/// nothing (its work runs with whatever the open scope chose). Work outside every scope runs with oneDNN off, the
/// state <see cref="TorchRuntime.Configure"/> leaves (unless <see cref="OneDnnPolicy.On"/>).
/// </para>
/// </summary>
public sealed class OneDnnScope : IDisposable
{
    private static readonly Lock Gate = new();
    private static OneDnnScope? _open;
    private bool _disposed;

    private OneDnnScope(bool enabled, string reason, bool owner)
    {
        Enabled = enabled;
        Reason = reason;
        Owner = owner;
    }

    /// <summary>Whether oneDNN runs inside this scope.</summary>
    public bool Enabled { get; }

    /// <summary>Why it does or does not, for the log (the policy, or the checks' outcome).</summary>
    public string Reason { get; }

    private bool Owner { get; }

    /// <summary>
    /// Enters a scope under <paramref name="policy"/>. <paramref name="checks"/> runs only under
    /// <see cref="OneDnnPolicy.Auto"/>, and only when no other scope is open.
    /// </summary>
    /// <param name="policy">Usually <see cref="TorchRuntime.Policy"/>.</param>
    /// <param name="checks">The self-tests of the models the scope's work runs.</param>
    /// <param name="logger">Where the decision is logged.</param>
    public static OneDnnScope Enter(OneDnnPolicy policy, Func<IEnumerable<OneDnnCheck>> checks, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(checks);
        logger ??= NullLogger.Instance;
        lock (Gate)
        {
            if (_open is not null)
            {
                return new OneDnnScope(TorchRuntime.OneDnnEnabled, "another oneDNN scope is open in this process", owner: false);
            }
            OneDnnScope scope;
            if (TorchRuntime.Problem is { } problem)
            {
                scope = new OneDnnScope(TorchRuntime.OneDnnEnabled, problem, owner: false);
            }
            else if (policy == OneDnnPolicy.Off)
            {
                scope = new OneDnnScope(false, "Torch:OneDnn is off", owner: true);
            }
            else if (policy == OneDnnPolicy.On)
            {
                scope = new OneDnnScope(true, "Torch:OneDnn is on (no self-test)", owner: true);
            }
            else
            {
                var results = checks().ToList();
                var failed = results.FirstOrDefault(r => !r.Agrees);
                scope = failed is null
                    ? new OneDnnScope(true, "the self-test agreed with ATen: " + string.Join("; ", results), owner: true)
                    : new OneDnnScope(false, "the self-test disagreed with ATen: " + failed, owner: true);
            }
            if (scope.Owner)
            {
                TorchRuntime.SetOneDnn(scope.Enabled);
                _open = scope;
            }
            logger.LogInformation("oneDNN kernels {State}: {Reason}", scope.Enabled ? "on" : "off", scope.Reason);
            return scope;
        }
    }

    /// <summary>Leaves the scope: oneDNN is off again (on under <see cref="OneDnnPolicy.On"/> set for the whole process).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!Owner)
        {
            return;
        }
        lock (Gate)
        {
            TorchRuntime.SetOneDnn(TorchRuntime.Policy == OneDnnPolicy.On);
            _open = null;
        }
    }
}

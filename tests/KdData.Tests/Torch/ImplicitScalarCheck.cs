using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace KdData.Tests.Torch;

/// <summary>
/// Finds the places in compiled code that hand libtorch a <see cref="Scalar"/> nobody holds (docs/operations.md, "TorchSharp
/// Scalars and the GC"): a call of Scalar's implicit conversion (<c>t.mul(0.5)</c>, <c>t * 2</c>, <c>t.pow(2)</c>,
/// <c>t.clamp(lo, hi)</c> with numbers), or a call of a TorchSharp method that makes one itself (<c>a + b</c> and
/// <c>a.add(b)</c> pass an implicit <c>alpha = 1</c>, <c>t.square()</c> an implicit 2, ...).
/// <para>
/// It reads IL rather than source, so types are the compiler's: a <c>double</c> variable counts as much as a literal,
/// operators count, and arithmetic on plain numbers or comments do not. Which TorchSharp methods make a Scalar
/// themselves is read from TorchSharp's own IL (the method, and what it calls within TorchSharp, two levels deep), so a
/// TorchSharp upgrade is checked as it is. <c>value.ToScalar()</c> is explicit and not reported (holding it with
/// <c>using</c> is the caller's part). Not seen: calls made through virtual dispatch into TorchSharp's or TorchVision's
/// own modules (<c>model.call(x)</c> reaches BatchNorm or a TorchVision residual block through a virtual forward).
/// </para>
/// </summary>
internal static class ImplicitScalarCheck
{
    private static readonly Dictionary<short, OpCode> OneByte = [];
    private static readonly Dictionary<short, OpCode> TwoByte = [];
    private static readonly Dictionary<MethodBase, string?> Hidden = [];
    private static readonly Lock HiddenLock = new();

    static ImplicitScalarCheck()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            (code.Size == 1 ? OneByte : TwoByte)[(short)(code.Value & 0xff)] = code;
        }
    }

    /// <summary>One unheld Scalar: the method that passes it (<c>Namespace.Type.Member</c>, lambdas and async state
    /// machines attributed to the member they are written in) and what it calls.</summary>
    public sealed record Finding(string Method, string Call);

    /// <summary>Every finding in the methods, constructors, lambdas and state machines of <paramref name="types"/> and
    /// the types nested in them.</summary>
    public static IReadOnlyList<Finding> Scan(IEnumerable<Type> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        var findings = new List<Finding>();
        foreach (var type in types.SelectMany(WithNested).Distinct())
        {
            foreach (var method in Members(type))
            {
                foreach (var callee in Callees(method))
                {
                    if (Reason(callee) is { } reason)
                    {
                        findings.Add(new Finding(Owner(method), $"{Describe(callee)}: {reason}"));
                    }
                }
            }
        }
        return findings;
    }

    /// <summary>Why calling <paramref name="callee"/> passes an unheld Scalar, or null when it does not.</summary>
    private static string? Reason(MethodBase callee)
    {
        if (IsImplicitScalar(callee))
        {
            return $"implicit Scalar from {callee.GetParameters()[0].ParameterType.Name}";
        }
        return IsTorch(callee) && Hides(callee, 2) is { } hidden ? hidden : null;
    }

    private static bool IsImplicitScalar(MethodBase method) =>
        method.DeclaringType == typeof(Scalar) && method.Name == "op_Implicit";

    private static bool IsTorch(MethodBase method) =>
        method.DeclaringType?.Namespace?.StartsWith("TorchSharp", StringComparison.Ordinal) == true;

    /// <summary>Whether TorchSharp's <paramref name="method"/> creates an implicit Scalar, directly or through what it
    /// calls within TorchSharp (<paramref name="depth"/> more levels).</summary>
    private static string? Hides(MethodBase method, int depth)
    {
        lock (HiddenLock)
        {
            if (Hidden.TryGetValue(method, out var known))
            {
                return known;
            }
            Hidden[method] = null; // recursion guard
        }
        string? reason = null;
        foreach (var callee in Callees(method))
        {
            if (IsImplicitScalar(callee))
            {
                reason = $"TorchSharp's body makes an implicit Scalar from {callee.GetParameters()[0].ParameterType.Name}";
                break;
            }
            if (depth > 0 && IsTorch(callee) && Hides(callee, depth - 1) is not null)
            {
                reason = $"calls {Describe(callee)}, which makes an implicit Scalar";
                break;
            }
        }
        lock (HiddenLock)
        {
            Hidden[method] = reason;
        }
        return reason;
    }

    private static IEnumerable<Type> WithNested(Type type) =>
        type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(WithNested).Prepend(type);

    private static IEnumerable<MethodBase> Members(Type type)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        return type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
    }

    /// <summary>The methods <paramref name="method"/>'s IL calls, constructs or takes a delegate to.</summary>
    private static List<MethodBase> Callees(MethodBase method)
    {
        var result = new List<MethodBase>();
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is FileNotFoundException or TypeLoadException or BadImageFormatException)
        {
            return result;
        }
        if (il is null)
        {
            return result;
        }
        var typeArguments = method.DeclaringType is { IsGenericType: true } generic ? generic.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var offset = 0;
        while (offset < il.Length)
        {
            var code = il[offset] == 0xFE ? TwoByte[il[++offset]] : OneByte[il[offset]];
            offset++;
            if (code.OperandType == OperandType.InlineMethod)
            {
                try
                {
                    if (method.Module.ResolveMethod(BitConverter.ToInt32(il, offset), typeArguments, methodArguments) is { } callee)
                    {
                        result.Add(callee);
                    }
                }
                catch (Exception e) when (e is ArgumentException or FileNotFoundException or TypeLoadException or MissingMethodException or BadImageFormatException)
                {
                    // A token that does not resolve in this context (e.g. a generic TorchSharp helper): not a Scalar call.
                }
            }
            offset += OperandSize(code, il, offset);
        }
        return result;
    }

    private static int OperandSize(OpCode code, byte[] il, int offset) => code.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, offset)),
        _ => 4,
    };

    /// <summary><c>Namespace.Type.Member</c> of the code <paramref name="method"/> was compiled from.</summary>
    private static string Owner(MethodBase method)
    {
        var name = Generated(method.Name) ?? method.Name;
        var type = method.DeclaringType!;
        while (type.IsNested && type.Name.StartsWith('<'))
        {
            if (!method.Name.StartsWith('<') && Generated(type.Name) is { Length: > 0 } stateMachine)
            {
                name = stateMachine;
            }
            type = type.DeclaringType!;
        }
        return $"{type.FullName}.{name}";
    }

    /// <summary>The member a compiler-generated name (<c>&lt;Compute&gt;b__3_0</c>, <c>&lt;RunAsync&gt;d__12</c>) belongs to.</summary>
    private static string? Generated(string name)
    {
        var end = name.IndexOf('>', StringComparison.Ordinal);
        return name.StartsWith('<') && end > 1 ? name[1..end] : null;
    }

    private static string Describe(MethodBase method) =>
        $"{method.DeclaringType?.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The <c>wrn</c> family, WRN-(6n+4)-k for small inputs: conv3x3 to 16 channels, three groups of n
/// <see cref="WideBasicBlock"/>s with 16k, 32k, 64k channels (strides 1, 2, 2), BN-ReLU, global average pool,
/// linear. State-dict names: <c>conv1</c>, <c>block1.0.bn1</c> ... <c>block3.{n-1}.conv2</c>, <c>bn</c>, <c>fc</c>.
/// </summary>
internal sealed class WideResNetModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _conv1;
    private readonly Sequential[] _groups;
    private readonly nn.Module<Tensor, Tensor> _bn;
    private readonly nn.Module<Tensor, Tensor> _fc;

    public WideResNetModule(long inChannels, long numClasses, int blocksPerGroup, int widenFactor, double dropRate)
        : base("WideResNet")
    {
        long[] widths = [16, 16L * widenFactor, 32L * widenFactor, 64L * widenFactor];
        var conv1 = nn.Conv2d(inChannels, widths[0], kernel_size: 3, stride: 1, padding: 1, bias: false);
        nn.init.kaiming_normal_(conv1.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        _conv1 = conv1;
        register_module("conv1", _conv1);

        _groups = new Sequential[3];
        for (var g = 0; g < 3; g++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>(blocksPerGroup);
            for (var b = 0; b < blocksPerGroup; b++)
            {
                var channelsIn = b == 0 ? widths[g] : widths[g + 1];
                var stride = b == 0 && g > 0 ? 2 : 1;
                blocks.Add(new WideBasicBlock(channelsIn, widths[g + 1], stride, dropRate));
            }
            _groups[g] = nn.Sequential(blocks);
            register_module($"block{g + 1}", _groups[g]);
        }

        _bn = nn.BatchNorm2d(widths[3]);
        var fc = nn.Linear(widths[3], numClasses);
        nn.init.zeros_(fc.bias!);
        _fc = fc;
        register_module("bn", _bn);
        register_module("fc", _fc);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _conv1.call(input);
        foreach (var group in _groups)
        {
            x = group.call(x);
        }
        x = nn.functional.relu(_bn.call(x));
        x = flatten(nn.functional.adaptive_avg_pool2d(x, [1, 1]), 1);
        return _fc.call(x).MoveToOuterDisposeScope();
    }
}

using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The <c>avgpool_linear</c> architecture: global average pooling of each input channel, then one linear layer to
/// the classes. A useless classifier whose forward pass costs next to nothing (a mean per channel and a C x K
/// matrix product), with the output shape of any other teacher: the feed-rate bench labels with it so that what it
/// measures is the pipeline around the teacher (fetch, decode, preprocess, batch, soft targets, Parquet), which a
/// GPU teacher would leave exposed. State-dict names are PyTorch's <c>fc = nn.Linear</c>.
/// </summary>
internal sealed class PooledLinear : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _fc;

    public PooledLinear(long inChannels, long numClasses) : base(nameof(PooledLinear))
    {
        _fc = nn.Linear(inChannels, numClasses);
        register_module("fc", _fc);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return _fc.call(input.mean([2, 3])).MoveToOuterDisposeScope();
    }
}

namespace KdData.Torch;

/// <summary>When LibTorch's oneDNN (MKLDNN) kernels may run. Bound from <c>Torch:OneDnn</c> (<see cref="TorchOptions.OneDnn"/>).</summary>
public enum OneDnnPolicy
{
    /// <summary>Off, except inside a <see cref="OneDnnScope"/> whose models passed <see cref="OneDnnSelfTest"/> on this machine.</summary>
    Auto,

    /// <summary>Never: every convolution runs on ATen's own im2col + BLAS kernels.</summary>
    Off,

    /// <summary>Always, without a self-test (the behaviour of <c>KDDATA_TORCH_ONEDNN=1</c>).</summary>
    On,
}

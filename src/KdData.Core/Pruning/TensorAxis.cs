namespace KdData.Pruning;

/// <summary>One axis of one state-dict tensor that runs over a channel group's channels.</summary>
/// <param name="Tensor">State-dict name, e.g. <c>features.0.0.weight</c>.</param>
/// <param name="Dim">Axis: 0 for a convolution's output filters or a BatchNorm's entries, 1 for a convolution's or linear layer's inputs.</param>
public readonly record struct TensorAxis(string Tensor, int Dim);

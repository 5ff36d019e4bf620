using static TorchSharp.torch;
var x = randn(1, 3, 8, 8);
var conv = TorchSharp.torch.nn.Conv2d(3, 4, 3);
var y = conv.forward(x);
Console.WriteLine(string.Join(",", y.shape));
Console.WriteLine(TorchSharp.torch.cuda.is_available());

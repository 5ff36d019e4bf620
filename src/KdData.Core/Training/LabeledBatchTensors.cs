using KdData.Augmentation;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// A <see cref="LabeledBatch"/>'s arrays as tensors on the device a model runs on, for the training step and the
/// evaluation of <see cref="TrainingLoop"/> alike (so both see the same shapes and types). On the CPU the tensors are
/// made in place; elsewhere they are moved.
/// </summary>
internal static class LabeledBatchTensors
{
    /// <summary>The pixels (N x C x H x W floats) and the labels (N longs).</summary>
    public static (Tensor X, Tensor Y) ToTensors(this LabeledBatch batch, Device device)
    {
        var x = tensor(batch.Pixels, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        var y = tensor(batch.Labels);
        if (device.type != DeviceType.CPU)
        {
            x = x.to(device);
            y = y.to(device);
        }
        return (x, y);
    }

    /// <summary>The view an online teacher labels (N x C x H x W): <see cref="LabeledBatch.TeacherPixels"/>, else <paramref name="pixels"/>.</summary>
    public static Tensor TeacherInput(this LabeledBatch batch, Tensor pixels, Device device)
    {
        if (batch.TeacherPixels is null)
        {
            return pixels;
        }
        var x = tensor(batch.TeacherPixels, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        return device.type == DeviceType.CPU ? x : x.to(device);
    }

    /// <summary>The cached teacher logits (N x classes) and which rows are real (null: all), or two nulls without logits.</summary>
    public static (Tensor? Logits, Tensor? HasTeacher) TeacherTensors(this LabeledBatch batch, Device device)
    {
        if (batch.TeacherLogits is null)
        {
            return (null, null);
        }
        var logits = tensor(batch.TeacherLogits, [batch.Count, batch.TeacherClasses]);
        var has = batch.HasTeacher is null ? null : tensor(batch.HasTeacher);
        if (device.type != DeviceType.CPU)
        {
            logits = logits.to(device);
            has = has?.to(device);
        }
        return (logits, has);
    }

    /// <summary>Each row's mixing partner (N longs) of a MixUp / CutMix batch.</summary>
    public static Tensor PartnerTensor(this BatchMix mix, Device device)
    {
        var partners = tensor(mix.Partner.Select(p => (long)p).ToArray());
        return device.type == DeviceType.CPU ? partners : partners.to(device);
    }
}

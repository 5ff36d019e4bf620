using KdData.Hosting;

namespace KdData.Models;

/// <summary>
/// Loads a checkpoint a command was given (export, quantize, prune): a missing record or weights file, or one that
/// cannot be decoded, is bad input (exit 2) with a message naming the path and where it came from.
/// </summary>
public static class CheckpointInput
{
    /// <param name="path">The checkpoint record.</param>
    /// <param name="what">Where the path came from, for the message: the setting (<c>Trainer:Export:Checkpoint</c>) or the step.</param>
    /// <param name="device">Where the weights go; default the CPU.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidInputException">The checkpoint is missing or unreadable.</exception>
    public static async Task<Checkpoint> LoadAsync(string path, string what, TorchSharp.torch.Device? device = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await CheckpointSerializer.LoadAsync(path, device, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            throw new InvalidInputException($"Checkpoint '{path}' ({what}) cannot be loaded: {e.Message}", e);
        }
    }
}

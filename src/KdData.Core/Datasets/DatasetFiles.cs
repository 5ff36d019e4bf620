using System.Text.Json;
using KdData.Hosting;
using KdData.Storage;

namespace KdData.Datasets;

/// <summary>
/// The two files every training stage reads from a dataset root: the labels manifest and the class names. Read here
/// once so that every command reports a missing or unreadable dataset the same way (exit 2, naming the dataset).
/// </summary>
public static class DatasetFiles
{
    /// <exception cref="InvalidInputException">A file is missing or unreadable (exit 2, naming the dataset).</exception>
    public static async Task<(List<LabelRecord> Manifest, IReadOnlyList<string> Classes)> ReadAsync(IObjectStore dataset, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await DatasetManifest.ReadAsync(await dataset.ReadAllBytesAsync(DatasetLayout.ManifestKey, cancellationToken).ConfigureAwait(false), $"{dataset.Location}{DatasetLayout.ManifestKey}", cancellationToken).ConfigureAwait(false);
            var classes = JsonSerializer.Deserialize<string[]>(await dataset.ReadAllBytesAsync(DatasetLayout.ClassesKey, cancellationToken).ConfigureAwait(false)) ?? [];
            return ([.. manifest], classes);
        }
        catch (ObjectNotFoundException e)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} is missing {e.Message}; import one first (kddata-trainer import) or point --dataset at one.", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException($"Dataset {dataset.Location}: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Dataset {dataset.Location}: '{DatasetLayout.ClassesKey}' is not a JSON array of class names: {e.Message}", e);
        }
    }
}

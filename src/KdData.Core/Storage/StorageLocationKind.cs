namespace KdData.Storage;

/// <summary>The backend a <see cref="StorageLocation"/> points at.</summary>
public enum StorageLocationKind
{
    /// <summary>A folder on the local (or mounted) file system.</summary>
    LocalFolder,

    /// <summary>A container (and prefix inside it) in Azure Blob Storage or Azurite.</summary>
    AzureBlob,
}

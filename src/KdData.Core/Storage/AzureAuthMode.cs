namespace KdData.Storage;

/// <summary>How the Azure Blob backend authenticates (setting <c>Storage:AuthMode</c>).</summary>
public enum AzureAuthMode
{
    /// <summary><c>Storage:ConnectionString</c> (account key or SAS connection string; also Azurite).</summary>
    ConnectionString,

    /// <summary>A shared access signature: <c>Storage:SasToken</c> or a SAS query on <c>Storage:AccountUrl</c> / the location URL.</summary>
    Sas,

    /// <summary>Microsoft Entra ID through Azure.Identity; the credential is picked by <c>Storage:CredentialKind</c>.</summary>
    Identity,
}

namespace KdData.Storage;

/// <summary>Which Azure.Identity credential is used when <see cref="AzureAuthMode.Identity"/> is selected.</summary>
public enum AzureCredentialKind
{
    /// <summary><c>DefaultAzureCredential</c>: environment, workload identity, managed identity, developer tools.</summary>
    Default,

    /// <summary><c>ManagedIdentityCredential</c> (system-assigned, or user-assigned with <c>Storage:ManagedIdentityClientId</c>).</summary>
    ManagedIdentity,

    /// <summary><c>WorkloadIdentityCredential</c> (Kubernetes workload identity federation, configured by environment variables).</summary>
    WorkloadIdentity,
}

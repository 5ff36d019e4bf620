using System.ComponentModel.DataAnnotations;
using System.Text;

namespace KdData.Storage;

/// <summary>
/// Storage settings, bound from the configuration section <c>Storage</c>. Azure credentials are only
/// checked when an Azure location is opened, so hosts that use local folders need no Azure settings.
/// <see cref="ToString"/> never prints secrets.
/// </summary>
/// <remarks>
/// Two retry layers, on purpose:
/// the Azure SDK's per-request retry (<see cref="SdkMaxRetries"/>) re-sends one HTTP request on
/// transport errors, 408/429/500/502/503/504 and also resumes a broken download stream from its last
/// offset; it is kept small. The operation-level Polly pipeline (<see cref="RetryMaxAttempts"/>) retries
/// a whole operation (e.g. a full read-all-bytes, or a write after the content stream is rewound),
/// which the SDK cannot do, and adds a per-attempt timeout and a circuit breaker. The worst case is
/// (RetryMaxAttempts + 1) * (SdkMaxRetries + 1) HTTP requests for one operation: 8 with the defaults.
/// Only transient failures are retried (408, 429, 5xx, transport/I/O errors, timeouts); 404/409/412 become
/// typed key-state exceptions and are never retried. The circuit breaker (one per Azure account) counts
/// failed attempts: once at least <see cref="CircuitBreakerMinimumThroughput"/> attempts in
/// <see cref="CircuitBreakerSamplingDuration"/> failed at <see cref="CircuitBreakerFailureRatio"/> or more, every
/// operation on that account fails immediately with <see cref="StorageOperationException"/> (inner
/// <c>BrokenCircuitException</c>) for <see cref="CircuitBreakerBreakDuration"/>, then one trial call decides
/// whether it closes again. Local folders use the retry and timeout but no circuit breaker.
/// Two calls go around both layers, as single requests with <see cref="ProbeTimeout"/>: the reachability probe
/// (<see cref="IObjectStore.ProbeAsync"/>) and lease renewal. Their callers repeat them on their own schedule, and neither
/// may wait through backoff or be kept out by an open breaker once storage is back; a probe that gets an answer also
/// closes the breaker.
/// </remarks>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Storage";

    /// <summary>Azure authentication mode. Default: <see cref="AzureAuthMode.ConnectionString"/>.</summary>
    public AzureAuthMode AuthMode { get; set; } = AzureAuthMode.ConnectionString;

    /// <summary>Azure Storage connection string (secret), used with <see cref="AzureAuthMode.ConnectionString"/>. Default: null.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob service URL, e.g. <c>https://acct.blob.core.windows.net/</c> (may carry a SAS query in Sas mode).
    /// Used by <c>az://</c> locations in Sas and Identity modes. Default: null.</summary>
    [Url]
    public string? AccountUrl { get; set; }

    /// <summary>SAS token (secret, with or without leading '?'), used with <see cref="AzureAuthMode.Sas"/>. Default: null.</summary>
    public string? SasToken { get; set; }

    /// <summary>Credential used with <see cref="AzureAuthMode.Identity"/>. Default: <see cref="AzureCredentialKind.Default"/>.</summary>
    public AzureCredentialKind CredentialKind { get; set; } = AzureCredentialKind.Default;

    /// <summary>Client id of a user-assigned managed identity; null means system-assigned / not set. Default: null.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Base directory for relative <c>file:</c> locations. Default: null (the host content root, else the current directory).</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>Timeout for one attempt of an operation (Polly). Default: 00:05:00.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Operation-level retries after the first attempt (Polly, exponential backoff with jitter); 0 disables. Default: 3.
    /// With the other defaults an unreachable store is known after about 7 s (0.5 + 1 + 2 s of backoff, jittered, and
    /// 0.8 s of SDK backoff per attempt); a caller that can wait (the Labeler) then pauses and probes instead.</summary>
    [Range(0, 20)]
    public int RetryMaxAttempts { get; set; } = 3;

    /// <summary>Base delay of the operation-level exponential backoff. Default: 00:00:00.500.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of one operation-level backoff delay. Default: 00:00:05.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the Azure backend uses a circuit breaker (one per account). Default: true.</summary>
    public bool CircuitBreakerEnabled { get; set; } = true;

    /// <summary>Failure ratio (of attempts in the sampling window) that opens the circuit. Default: 0.5.</summary>
    [Range(0.01, 1.0)]
    public double CircuitBreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Minimum attempts in the sampling window before the circuit can open. Default: 20.</summary>
    [Range(2, 100_000)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 20;

    /// <summary>Sampling window of the circuit breaker. Default: 00:00:30.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open (calls fail fast) before a trial call. Default: 00:00:15.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Azure SDK per-request retries (kept small, see remarks). Default: 1.</summary>
    [Range(0, 10)]
    public int SdkMaxRetries { get; set; } = 1;

    /// <summary>Azure SDK initial retry delay. Default: 00:00:00.800.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan SdkRetryDelay { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Azure SDK maximum retry delay. Default: 00:00:10.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SdkMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Azure SDK network timeout per HTTP request / stream read. Default: 00:01:40.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SdkNetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Timeout of the single-request calls that bypass retries and the circuit breaker: the reachability probe
    /// and lease renewal. Default: 00:00:05.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the local store waits for a folder's write lock before failing. Default: 00:00:30.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan LocalLockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RetryMaxDelay < RetryBaseDelay)
        {
            yield return new ValidationResult(
                $"{SectionName}:RetryMaxDelay must not be smaller than {SectionName}:RetryBaseDelay.", [nameof(RetryMaxDelay)]);
        }

        if (SdkMaxRetryDelay < SdkRetryDelay)
        {
            yield return new ValidationResult(
                $"{SectionName}:SdkMaxRetryDelay must not be smaller than {SectionName}:SdkRetryDelay.", [nameof(SdkMaxRetryDelay)]);
        }
    }

    /// <summary>Settings summary for logs; secrets are shown only as set/not set.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder("StorageOptions { ");
        builder.Append("AuthMode = ").Append(AuthMode)
            .Append(", ConnectionString = ").Append(ConnectionString is null ? "<not set>" : "<set>")
            .Append(", AccountUrl = ").Append(AccountUrl is null ? "<not set>" : StorageLocation.Redact(AccountUrl))
            .Append(", SasToken = ").Append(SasToken is null ? "<not set>" : "<set>")
            .Append(", CredentialKind = ").Append(CredentialKind)
            .Append(", RetryMaxAttempts = ").Append(RetryMaxAttempts)
            .Append(", SdkMaxRetries = ").Append(SdkMaxRetries)
            .Append(", AttemptTimeout = ").Append(AttemptTimeout)
            .Append(", CircuitBreakerEnabled = ").Append(CircuitBreakerEnabled)
            .Append(" }");
        return builder.ToString();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace KdData.Storage;

/// <summary>
/// Opens <see cref="IObjectStore"/>s for location strings. Register as a singleton (<see cref="StorageServiceCollectionExtensions.AddKdDataStorage"/>):
/// it keeps ONE long-lived <see cref="BlobServiceClient"/> (and one resilience pipeline / circuit breaker) per account
/// and credential, shared by every store opened on that account.
/// </summary>
public sealed class ObjectStoreFactory
{
    private readonly StorageOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly string _baseDirectory;
    private readonly Action<BlobClientOptions>? _configureBlobClientOptions;
    private readonly ConcurrentDictionary<string, Lazy<AzureAccount>> _accounts = new(StringComparer.Ordinal);
    private readonly Lazy<TokenCredential> _credential;
    private readonly Lazy<ResiliencePipeline> _localPipeline;
    private readonly TimeProvider _time;

    /// <param name="options">Storage settings.</param>
    /// <param name="loggerFactory">Retry and circuit-breaker logs.</param>
    /// <param name="hostEnvironment">Its content root is the base directory of relative <c>file:</c> locations when <see cref="StorageOptions.BaseDirectory"/> is not set.</param>
    /// <param name="timeProvider">The clock of local-folder lease expiry; <see cref="TimeProvider.System"/> when null. (Azure keeps its leases' time itself.)</param>
    public ObjectStoreFactory(IOptions<StorageOptions> options, ILoggerFactory? loggerFactory = null, IHostEnvironment? hostEnvironment = null, TimeProvider? timeProvider = null)
        : this(options, loggerFactory, hostEnvironment, configureBlobClientOptions: null, timeProvider)
    {
    }

    /// <summary>Also takes a test hook that adjusts the SDK client options (e.g. adds a fault-injecting pipeline policy).</summary>
    internal ObjectStoreFactory(
        IOptions<StorageOptions> options,
        ILoggerFactory? loggerFactory,
        IHostEnvironment? hostEnvironment,
        Action<BlobClientOptions>? configureBlobClientOptions,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ObjectStoreFactory>();
        _baseDirectory = _options.BaseDirectory ?? hostEnvironment?.ContentRootPath ?? Directory.GetCurrentDirectory();
        _configureBlobClientOptions = configureBlobClientOptions;
        _time = timeProvider ?? TimeProvider.System;
        _credential = new Lazy<TokenCredential>(CreateCredential);

        // Local folders: retries for transient I/O errors, but no circuit breaker (there is no remote service to protect).
        _localPipeline = new Lazy<ResiliencePipeline>(() => OperationRunner.BuildPipeline(_options, withCircuitBreaker: false, _logger));
    }

    /// <summary>Base directory used for relative <c>file:</c> locations.</summary>
    public string BaseDirectory => _baseDirectory;

    /// <summary>Parses <paramref name="location"/> (see <see cref="StorageLocation"/>) and opens a store rooted there.</summary>
    public IObjectStore Open(string location) => Open(StorageLocation.Parse(location, _baseDirectory));

    public IObjectStore Open(StorageLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.Kind == StorageLocationKind.LocalFolder)
        {
            return new LocalFolderObjectStore(location, new OperationRunner(_localPipeline.Value, location.ToString()), _options.LocalLockTimeout, _time);
        }

        AzureAccount account = GetAccount(location);
        return new AzureBlobObjectStore(
            location,
            account.Client.GetBlobContainerClient(location.ContainerName),
            new OperationRunner(account.Pipeline, location.ToString()),
            account.Direct);
    }

    /// <summary>The shared service client an Azure location resolves to (exposed for tests and diagnostics).</summary>
    internal BlobServiceClient GetServiceClient(StorageLocation location) => GetAccount(location).Client;

    private AzureAccount GetAccount(StorageLocation location)
    {
        Debug.Assert(location.Kind == StorageLocationKind.AzureBlob, "Only Azure locations have accounts.");

        // The cache key identifies endpoint + credential without containing secrets in clear text.
        (string cacheKey, Func<BlobClientOptions, BlobServiceClient> create) = ResolveClient(location);
        Lazy<AzureAccount> lazy = _accounts.GetOrAdd(cacheKey, _ => new Lazy<AzureAccount>(() => CreateAccount(create)));
        AzureAccount account = lazy.Value;

        if (location.ServiceUri is not null && !SameEndpoint(account.Client.Uri, location.ServiceUri))
        {
            throw new InvalidStorageLocationException(
                location.ToString(),
                $"its account endpoint differs from the one in {StorageOptions.SectionName}:ConnectionString ({account.Client.Uri.GetLeftPart(UriPartial.Path)})",
                null);
        }

        return account;
    }

    private AzureAccount CreateAccount(Func<BlobClientOptions, BlobServiceClient> create)
    {
        var breaker = _options.CircuitBreakerEnabled ? new CircuitBreakerManualControl() : null;
        var direct = CreateClientOptions();
        direct.Retry.MaxRetries = 0;
        direct.Retry.NetworkTimeout = _options.ProbeTimeout;
        return new AzureAccount(
            create(CreateClientOptions()),
            OperationRunner.BuildPipeline(_options, withCircuitBreaker: true, _logger, breaker),
            new AzureDirectCalls(create(direct), _options.ProbeTimeout, breaker));
    }

    private (string CacheKey, Func<BlobClientOptions, BlobServiceClient> Create) ResolveClient(StorageLocation location)
    {
        string section = StorageOptions.SectionName;
        if (location.SasToken is { } urlSas)
        {
            Uri endpoint = location.ServiceUri!;
            return ($"sas|{endpoint}|{Fingerprint(urlSas)}", o => new BlobServiceClient(endpoint, new AzureSasCredential(urlSas), o));
        }

        switch (_options.AuthMode)
        {
            case AzureAuthMode.ConnectionString:
            {
                string connectionString = _options.ConnectionString
                    ?? throw new InvalidStorageLocationException(location.ToString(), $"{section}:ConnectionString is not set ({section}:AuthMode is ConnectionString)", null);
                return ($"cs|{Fingerprint(connectionString)}", o => CreateFromConnectionString(connectionString, o));
            }

            case AzureAuthMode.Sas:
            {
                (Uri endpoint, string? accountUrlSas) = EndpointOf(location);
                string sas = (_options.SasToken ?? accountUrlSas)?.TrimStart('?')
                    ?? throw new InvalidStorageLocationException(location.ToString(), $"{section}:SasToken is not set ({section}:AuthMode is Sas)", null);
                return ($"sas|{endpoint}|{Fingerprint(sas)}", o => new BlobServiceClient(endpoint, new AzureSasCredential(sas), o));
            }

            case AzureAuthMode.Identity:
            {
                (Uri endpoint, _) = EndpointOf(location);
                return ($"id|{endpoint}", o => new BlobServiceClient(endpoint, _credential.Value, o));
            }

            default:
                throw new InvalidStorageLocationException(location.ToString(), $"{section}:AuthMode '{_options.AuthMode}' is not supported", null);
        }
    }

    /// <summary>Endpoint from the location URL, else from Storage:AccountUrl (split from any SAS query it carries).</summary>
    private (Uri Endpoint, string? Sas) EndpointOf(StorageLocation location)
    {
        if (location.ServiceUri is not null)
        {
            return (location.ServiceUri, null);
        }

        if (string.IsNullOrWhiteSpace(_options.AccountUrl) || !Uri.TryCreate(_options.AccountUrl, UriKind.Absolute, out Uri? accountUrl))
        {
            throw new InvalidStorageLocationException(
                location.ToString(), $"{StorageOptions.SectionName}:AccountUrl must be set to an absolute URL for az:// locations in {_options.AuthMode} mode", null);
        }

        string? sas = accountUrl.Query.Length > 1 ? accountUrl.Query[1..] : null;
        return (new Uri(accountUrl.GetLeftPart(UriPartial.Path)), sas);
    }

    private static BlobServiceClient CreateFromConnectionString(string connectionString, BlobClientOptions options)
    {
        try
        {
            return new BlobServiceClient(connectionString, options);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            // The SDK's message may quote the connection string; do not chain it.
            throw new InvalidStorageLocationException($"{StorageOptions.SectionName}:ConnectionString is not a valid Azure Storage connection string ({ex.GetType().Name}).");
        }
    }

    private BlobClientOptions CreateClientOptions()
    {
        var options = new BlobClientOptions();

        // SDK retry: re-sends a single HTTP request on transport errors and 408/429/500/502/503/504, and resumes
        // broken download streams. Kept small because the Polly pipeline above it retries whole operations.
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = _options.SdkMaxRetries;
        options.Retry.Delay = _options.SdkRetryDelay;
        options.Retry.MaxDelay = _options.SdkMaxRetryDelay;
        options.Retry.NetworkTimeout = _options.SdkNetworkTimeout;
        _configureBlobClientOptions?.Invoke(options);
        return options;
    }

    private TokenCredential CreateCredential()
    {
        string? clientId = string.IsNullOrWhiteSpace(_options.ManagedIdentityClientId) ? null : _options.ManagedIdentityClientId;
        return _options.CredentialKind switch
        {
            AzureCredentialKind.ManagedIdentity => new ManagedIdentityCredential(
                clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId)),
            AzureCredentialKind.WorkloadIdentity => new WorkloadIdentityCredential(),
            _ => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }),
        };
    }

    private static bool SameEndpoint(Uri a, Uri b) =>
        string.Equals(a.GetLeftPart(UriPartial.Path).TrimEnd('/'), b.GetLeftPart(UriPartial.Path).TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private static string Fingerprint(string secret) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), 0, 8);

    private sealed record AzureAccount(BlobServiceClient Client, ResiliencePipeline Pipeline, AzureDirectCalls Direct);
}

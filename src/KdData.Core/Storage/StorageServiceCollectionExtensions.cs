using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KdData.Storage;

/// <summary>DI registration of the storage layer.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="StorageOptions"/> from the "Storage" section (validated with DataAnnotations at start-up)
    /// and registers <see cref="ObjectStoreFactory"/> as a singleton (one Azure client per account for the process).
    /// </summary>
    public static IServiceCollection AddKdDataStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<ObjectStoreFactory>();
        return services;
    }
}

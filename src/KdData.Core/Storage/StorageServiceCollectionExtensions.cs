using KdData.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KdData.Storage;

/// <summary>DI registration of the storage layer.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="StorageOptions"/> from the "Storage" section (validated at start-up, messages naming the key)
    /// and registers <see cref="ObjectStoreFactory"/> as a singleton (one Azure client per account for the process).
    /// </summary>
    public static IServiceCollection AddKdDataStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedSettings<StorageOptions>(configuration, StorageOptions.SectionName);
        services.TryAddSingleton<ObjectStoreFactory>();
        return services;
    }
}

using KdData.Imaging;
using KdData.Storage;
using KdData.Torch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace KdData.Hosting;

/// <summary>Registers what both hosts share: storage, Torch and image settings, validated at start.</summary>
public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddKdDataCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddKdDataStorage(configuration);
        services.AddOptions<TorchOptions>().Bind(configuration.GetSection(TorchOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ImageOptions>().Bind(configuration.GetSection(ImageOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}

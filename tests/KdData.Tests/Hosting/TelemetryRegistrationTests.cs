using System.Diagnostics.Metrics;
using KdData.Hosting;
using KdData.Labeling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace KdData.Tests.Hosting;

public sealed class TelemetryRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddKdDataCore(configuration).BuildServiceProvider();
    }

    [Fact]
    public void AddKdDataCore_NoTelemetrySettings_RegistersNoMeterProvider()
    {
        using var services = Build([]);
        Assert.Null(services.GetService<MeterProvider>());
    }

    [Fact]
    public void AddKdDataCore_ConsoleExporter_RegistersMeterProvider()
    {
        using var services = Build(new() { ["Telemetry:Console"] = "true" });
        Assert.NotNull(services.GetService<MeterProvider>());
    }

    [Fact]
    public void LabelerMetrics_Instruments_ArePublishedUnderTheLabelerMeter()
    {
        // The instruments are created with the class; make sure it is initialised whatever ran before.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(LabelerMetrics).TypeHandle);
        var names = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == LabelerMetrics.MeterName)
                {
                    lock (names)
                    {
                        names.Add(instrument.Name);
                    }
                }
            },
        };
        listener.Start();

        Assert.Contains("kddata.labeler.images", names);
        Assert.Contains("kddata.labeler.errors", names);
        Assert.Contains("kddata.labeler.batch.duration", names);
    }
}

using KdData.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KdData.Tests.Hosting;

public sealed class JobHostTests
{
    private sealed class ConstantJob(IHostApplicationLifetime lifetime, JobOutcome outcome, ILogger<ConstantJob> logger, Func<CancellationToken, Task<int>> body)
        : JobService(lifetime, outcome, logger)
    {
        protected override Task<int> RunJobAsync(CancellationToken stoppingToken) => body(stoppingToken);
    }

    private static Task<int> Run(string[] args, Func<CancellationToken, Task<int>> body) =>
        JobHost.RunAsync(args, builder =>
        {
            builder.Services.AddKdDataCore(builder.Configuration);
            builder.Services.AddHostedService(sp => new ConstantJob(
                sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<JobOutcome>(), sp.GetRequiredService<ILogger<ConstantJob>>(), body));
        });

    [Fact]
    public async Task RunAsync_InvalidSetting_ReturnsInvalidConfigurationWithoutRunningTheJob()
    {
        var ran = false;
        var code = await Run(["--Torch:Device=gpu"], _ => { ran = true; return Task.FromResult(0); });

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(ran);
    }

    [Fact]
    public async Task RunAsync_JobResult_BecomesTheExitCode()
    {
        Assert.Equal(ExitCodes.ErrorThresholdExceeded, await Run([], _ => Task.FromResult(ExitCodes.ErrorThresholdExceeded)));
    }

    [Fact]
    public void ExitCode_NeverRecorded_IsInterruptedNotSuccess()
    {
        var outcome = new JobOutcome();
        Assert.Equal(ExitCodes.Interrupted, outcome.ExitCode);
        outcome.ExitCode = ExitCodes.Success;
        Assert.Equal(ExitCodes.Success, outcome.ExitCode);
    }

    [Fact]
    public async Task RunAsync_JobThrows_ReturnsFailure()
    {
        Assert.Equal(ExitCodes.Failure, await Run([], _ => throw new InvalidDataException("boom")));
    }

    [Fact]
    public async Task RunAsync_JobThrowsInvalidInput_ReturnsInvalidConfiguration()
    {
        Assert.Equal(ExitCodes.InvalidConfiguration, await Run([], _ => throw new InvalidInputException("shard 'x' is for other classes")));
    }
}

using KdData.Evaluation;

namespace KdData.Tests.Evaluation;

public sealed class MetricsHistoryTests
{
    [Fact]
    public void Parse_AnyNumericColumns_BecomeSeriesOverEpoch()
    {
        string[] lines =
        [
            """{"epoch":1,"train_loss":1.5,"eval_loss":1.2,"eval_accuracy":0.6,"kd":0.9,"alpha":0.9,"note":"warm-up"}""",
            """{"epoch":2,"train_loss":"NaN","eval_loss":1.0,"eval_accuracy":0.7,"kd":0.7,"alpha":0.8,"teacher_kl":0.3}""",
            """{"epoch":3,"train_lo""",
        ];

        var history = MetricsHistory.Parse(lines);

        Assert.Equal(["train_loss", "eval_loss", "eval_accuracy", "kd", "alpha", "teacher_kl"], history.Columns);
        Assert.Equal([(1.0, 1.5)], history["train_loss"]); // the NaN of epoch 2 and the torn line are skipped
        Assert.Equal([(1.0, 0.9), (2.0, 0.8)], history["alpha"]);
        Assert.Equal([(2.0, 0.3)], history["teacher_kl"]);
    }

    [Fact]
    public void Panels_TrainAndEvalOfOneQuantity_ShareAPanel()
    {
        var history = MetricsHistory.Parse(["""{"epoch":1,"train_loss":1,"eval_loss":2,"lr":0.1,"train_accuracy":0.5,"eval_accuracy":0.4,"kd":3}"""]);

        var panels = history.Panels();

        Assert.Equal(["loss", "lr", "accuracy", "kd"], panels.Select(p => p.Panel));
        Assert.Equal(["train_loss", "eval_loss"], panels[0].Columns);
        Assert.Equal(["kd"], panels[3].Columns);
    }
}

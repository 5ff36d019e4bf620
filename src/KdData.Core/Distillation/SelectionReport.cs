using System.Globalization;
using System.Text;

namespace KdData.Distillation;

/// <summary>How many rows each load-time rule kept and dropped, per class; logged at the start of distillation.</summary>
/// <param name="Classes">One entry per student class, in class order.</param>
/// <param name="IncludeRejected">Whether rows of rejected shards were taken in.</param>
/// <param name="ErrorImages">Images whose latest commit is an error (no soft target; their older rows, if any, are superseded).</param>
public sealed record SelectionReport(IReadOnlyList<ClassSelection> Classes, bool IncludeRejected, int ErrorImages)
{
    public int Accepted => Classes.Sum(c => c.Accepted);

    public int Rejected => Classes.Sum(c => c.Rejected);

    public int IncludedRejected => Classes.Sum(c => c.IncludedRejected);

    public int Superseded => Classes.Sum(c => c.Superseded);

    public int BelowThreshold => Classes.Sum(c => c.BelowThreshold);

    public int OverCap => Classes.Sum(c => c.OverCap);

    public int Kept => Classes.Sum(c => c.Kept);

    /// <summary>A fixed-width table, one line per class plus a total, for logs and the console.</summary>
    public string ToTable()
    {
        var width = Math.Max(5, Classes.Count == 0 ? 0 : Classes.Max(c => c.Class.Length));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"class".PadRight(width)} {"accepted",9} {"rejected",9} {"taken",7} {"supersed",9} {"<thresh",8} {"thresh",7} {">cap",7} {"cap",7} {"kept",7}").AppendLine();
        foreach (var c in Classes)
        {
            var cap = c.Cap?.ToString(CultureInfo.InvariantCulture) ?? "-";
            text.Append(CultureInfo.InvariantCulture, $"{c.Class.PadRight(width)} {c.Accepted,9} {c.Rejected,9} {c.IncludedRejected,7} {c.Superseded,9} {c.BelowThreshold,8} {c.Threshold,7:0.###} {c.OverCap,7} {cap,7} {c.Kept,7}").AppendLine();
        }

        text.Append(CultureInfo.InvariantCulture, $"{"total".PadRight(width)} {Accepted,9} {Rejected,9} {IncludedRejected,7} {Superseded,9} {BelowThreshold,8} {"",7} {OverCap,7} {"",7} {Kept,7}");
        return text.ToString();
    }
}

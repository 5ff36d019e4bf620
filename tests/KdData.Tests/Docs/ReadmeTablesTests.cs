using System.Text.RegularExpressions;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Docs;

/// <summary>
/// Figures come from result files: every table between <c>&lt;!-- NAME:start --&gt; &lt;!-- source=FILE --&gt;</c> and
/// <c>&lt;!-- NAME:end --&gt;</c> in README.md or docs/ must be FILE verbatim (the bench script that measured it wrote
/// both, through <c>readme_table</c> in bench/steps.sh). An empty table is a measurement not run yet, allowed only while
/// its file does not exist.
/// </summary>
public sealed partial class ReadmeTablesTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string> { "README.md" };
        var docs = Path.Combine(LabelerSamples.RepoRoot, "docs");
        if (Directory.Exists(docs))
        {
            foreach (var file in Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetRelativePath(LabelerSamples.RepoRoot, file).Replace('\\', '/'));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void MarkedTables_AreTheirSourceFilesVerbatim(string document)
    {
        var text = File.ReadAllText(Path.Combine(LabelerSamples.RepoRoot, document)).ReplaceLineEndings("\n");
        var problems = new List<string>();
        var starts = StartMarker().Matches(text);
        foreach (Match start in starts)
        {
            var name = start.Groups["name"].Value;
            var source = start.Groups["source"].Value;
            var end = text.IndexOf($"<!-- {name}:end -->", start.Index, StringComparison.Ordinal);
            if (end < 0)
            {
                problems.Add($"{name}: no end marker");
                continue;
            }

            if (source.Length == 0)
            {
                problems.Add($"{name}: the start marker names no source file (<!-- source=bench/... -->)");
                continue;
            }

            var body = text[(start.Index + start.Length + 1)..end];
            var path = Path.Combine(LabelerSamples.RepoRoot, source);
            if (!File.Exists(path))
            {
                if (body.Trim().Length > 0)
                {
                    problems.Add($"{name}: shows figures, but its source {source} does not exist");
                }

                continue;
            }

            var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
            if (!string.Equals(body.TrimEnd('\n'), expected.TrimEnd('\n'), StringComparison.Ordinal))
            {
                problems.Add($"{name}: differs from {source} (rerun the bench script's table step, or readme_table in bench/steps.sh)");
            }
        }

        var unmarked = Regex.Count(text, "<!-- ([a-z0-9-]+):start -->") - starts.Count;
        Assert.True(unmarked == 0, $"{unmarked} start markers in {document} have no '<!-- source=... -->' after them");
        Assert.True(problems.Count == 0, document + ": " + string.Join("; ", problems));
    }

    [GeneratedRegex(@"^<!-- (?<name>[a-z0-9-]+):start --> <!-- source=(?<source>[^ ]*) -->$", RegexOptions.Multiline)]
    private static partial Regex StartMarker();
}

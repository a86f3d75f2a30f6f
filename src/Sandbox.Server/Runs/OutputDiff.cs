namespace Sandbox.Server.Runs;

/// <summary>
/// A compact line diff of two outputs for a replay's answer: the common head and tail are skipped, and what differs in
/// between is listed as <c>-</c> (original) and <c>+</c> (replay) lines, at most <see cref="MaxLines"/> of them. Empty
/// when the texts are equal.
/// </summary>
internal static class OutputDiff
{
    /// <summary>Enough to see what changed; a flood of output must not make a flood of diff.</summary>
    public const int MaxLines = 40;

    /// <summary>Characters shown of one line.</summary>
    public const int MaxLineLength = 200;

    public static IReadOnlyList<string> Lines(string original, string replay)
    {
        if (string.Equals(original, replay, StringComparison.Ordinal))
        {
            return [];
        }

        var a = Split(original);
        var b = Split(replay);
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head])
        {
            head++;
        }

        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)])
        {
            tail++;
        }

        var changed = a[head..^tail].Select(l => "-" + Clip(l)).Concat(b[head..^tail].Select(l => "+" + Clip(l))).ToList();
        if (changed.Count == 0)
        {
            // Equal lines but different text: only the final newline differs.
            return [original.EndsWith('\n') ? "-(newline at end)" : "+(newline at end)"];
        }

        var diff = new List<string>();
        if (head > 0)
        {
            diff.Add($"@@ line {head + 1} @@");
        }

        diff.AddRange(changed.Take(MaxLines));
        if (changed.Count > MaxLines)
        {
            diff.Add($"… ({changed.Count - MaxLines} more lines differ)");
        }

        return diff;
    }

    /// <summary>A long line is cut: the diff says where outputs part, the runs' own views have the whole text.</summary>
    private static string Clip(string line) => line.Length <= MaxLineLength ? line : line[..MaxLineLength] + $"… (+{line.Length - MaxLineLength} characters)";

    /// <summary>Lines without their terminators; a final newline does not make an empty last line.</summary>
    private static string[] Split(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }
}

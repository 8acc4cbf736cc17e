using System.Text;

namespace Fwmark.Core.Install;

/// <summary>
/// A unified diff of two small text files (conflists: tens of lines), for --dry-run. Plain LCS over lines;
/// hunks with three lines of context like diff -u.
/// </summary>
public static class TextDiff
{
    private const int Context = 3;

    public static string Unified(string path, string? before, string? after)
    {
        var a = Lines(before);
        var b = Lines(after);
        var ops = Script(a, b);
        var output = new StringBuilder();
        output.Append($"--- {(before is null ? "/dev/null" : path)}\n+++ {(after is null ? "/dev/null" : path)}\n");
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ')
            {
                i++;
                continue;
            }

            var start = Math.Max(0, i - Context);
            var end = i;
            // Extend the hunk while the next change is within 2*Context lines of unchanged text.
            while (end < ops.Count)
            {
                var next = end;
                while (next < ops.Count && ops[next].Kind == ' ')
                {
                    next++;
                }

                if (next == ops.Count || next - end > 2 * Context)
                {
                    end = Math.Min(ops.Count, end + Context);
                    break;
                }

                end = next;
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }
            }

            var oldStart = ops[start].OldLine;
            var newStart = ops[start].NewLine;
            var oldCount = ops.Skip(start).Take(end - start).Count(o => o.Kind != '+');
            var newCount = ops.Skip(start).Take(end - start).Count(o => o.Kind != '-');
            output.Append($"@@ -{(oldCount == 0 ? oldStart : oldStart + 1)},{oldCount} +{(newCount == 0 ? newStart : newStart + 1)},{newCount} @@\n");
            for (var k = start; k < end; k++)
            {
                output.Append(ops[k].Kind).Append(ops[k].Text).Append('\n');
            }

            i = end;
        }

        return output.ToString();
    }

    private readonly record struct Op(char Kind, string Text, int OldLine, int NewLine);

    private static string[] Lines(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.TrimEnd('\n').Split('\n');

    private static List<Op> Script(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var ops = new List<Op>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                ops.Add(new Op(' ', a[x], x++, y++));
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                ops.Add(new Op('+', b[y], x, y++));
            }
            else
            {
                ops.Add(new Op('-', a[x], x++, y));
            }
        }

        return ops;
    }
}

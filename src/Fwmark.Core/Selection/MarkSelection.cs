namespace Fwmark.Core.Selection;

/// <summary>The mark chosen for one attachment and where the choice came from (for logs and errors).</summary>
/// <param name="Source">e.g. <c>annotation cni.fwmark.net/name</c>, <c>CNI_ARGS FWMARK_NAME</c>, <c>namespace secure</c>, <c>defaultMark</c>.</param>
public sealed record MarkSelection(MarkSpec Mark, string Source);

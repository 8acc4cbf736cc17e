using System.Text;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// The userdata blob libnftnl puts on rules and set elements: a run of TLVs (u8 type, u8 length,
/// value). Type 0 is the comment (NFTNL_UDATA_RULE_COMMENT / NFTNL_UDATA_SET_ELEM_COMMENT), a
/// NUL-terminated string whose length counts the NUL; `nft list` shows it as `comment "..."`.
/// </summary>
internal static class NftUserData
{
    public const byte CommentType = 0;

    /// <summary>nft refuses longer comments (NFT_USERDATA_MAXLEN is 256, comments are capped at 128 with NUL).</summary>
    public const int MaxCommentBytes = 127;

    public static byte[] Comment(string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        if (count > MaxCommentBytes)
        {
            throw new ArgumentException($"comment of {count} bytes is longer than {MaxCommentBytes}", nameof(text));
        }

        var blob = new byte[2 + count + 1];
        blob[0] = CommentType;
        blob[1] = (byte)(count + 1);
        Encoding.UTF8.GetBytes(text, blob.AsSpan(2));
        return blob;
    }

    /// <summary>The comment inside a userdata blob, or null when there is none or the blob is malformed.</summary>
    public static string? ReadComment(ReadOnlySpan<byte> blob)
    {
        while (blob.Length >= 2)
        {
            var type = blob[0];
            var length = blob[1];
            if (2 + length > blob.Length)
            {
                return null;
            }

            var value = blob.Slice(2, length);
            if (type == CommentType)
            {
                var end = value.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
            }

            blob = blob[(2 + length)..];
        }

        return null;
    }
}

using System.Text;

namespace Fwmark.Core.Tests;

public class AttachmentOwnerTests
{
    private static readonly AttachmentOwner Owner = new("mustredirect", "267346f9a6097af014f8321cae17ff503c2162d2e24e5281c88e38c0719ac0a9", "eth0");

    // The keys are an on-kernel format: elements written by one plugin version are deleted by the
    // next, so these golden values must never change. They are XXH3-64 (seed 0) of "network" and
    // "network\0containerID\0ifname"; the library's empty-input value is checked against the
    // published XXH3 test vector so the golden values are known to come from XXH3.
    [Fact]
    public void Keys_are_fixed_width_hashes_of_the_network_and_of_the_whole_owner()
    {
        Assert.Equal(0x2D06800538D394C2UL, System.IO.Hashing.XxHash3.HashToUInt64([]));
        Assert.Equal("6fa9d1c9", Owner.NetworkKey);
        Assert.Equal("4982f97d3fd00df3", Owner.Key);
        Assert.Matches("^[0-9a-f]{8}$", Owner.NetworkKey);
        Assert.Matches("^[0-9a-f]{16}$", Owner.Key);
    }

    [Fact]
    public void Tag_is_keys_then_a_readable_tail()
    {
        Assert.Equal($"{Owner.NetworkKey}.{Owner.Key} mustredirect/{Owner.ContainerId}/eth0", Owner.Tag);
        Assert.True(Encoding.UTF8.GetByteCount(Owner.Tag) <= AttachmentOwner.MaxTagBytes);
    }

    [Fact]
    public void TryParseTag_reads_back_the_keys()
    {
        Assert.True(AttachmentOwner.TryParseTag(Owner.Tag, out var networkKey, out var key));
        Assert.Equal(Owner.NetworkKey, networkKey);
        Assert.Equal(Owner.Key, key);

        // The keys alone (a tail cut away completely) are still a tag.
        Assert.True(AttachmentOwner.TryParseTag($"{Owner.NetworkKey}.{Owner.Key}", out networkKey, out key));
        Assert.Equal(Owner.Key, key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("portmap rule for 10.0.0.1")]
    [InlineData("0123abcd-0123456789abcdef tail")] // wrong separator
    [InlineData("0123abcd.0123456789abcdefX")] // no space before the tail
    [InlineData("0123ABCD.0123456789abcdef tail")] // upper case is not ours
    [InlineData("0123abcg.0123456789abcdef tail")] // not hex
    [InlineData("0123abcd.0123456789abcde")] // key too short
    public void TryParseTag_refuses_foreign_comments(string comment)
    {
        Assert.False(AttachmentOwner.TryParseTag(comment, out _, out _));
    }

    [Fact]
    public void A_very_long_network_name_is_cut_but_keeps_the_keys()
    {
        var owner = Owner with { Network = new string('n', 300) };

        var tag = owner.Tag;

        Assert.Equal(AttachmentOwner.MaxTagBytes, Encoding.UTF8.GetByteCount(tag));
        Assert.StartsWith($"{owner.NetworkKey}.{owner.Key} nnnn", tag, StringComparison.Ordinal);
        Assert.True(AttachmentOwner.TryParseTag(tag, out var networkKey, out var key));
        Assert.Equal(owner.NetworkKey, networkKey);
        Assert.Equal(owner.Key, key);
    }

    [Fact]
    public void Cutting_never_splits_a_multibyte_character()
    {
        // 'é' is 2 bytes in UTF-8; a 1-byte shift makes the 127-byte cut land inside one of them.
        foreach (var prefix in new[] { "", "x" })
        {
            var owner = Owner with { Network = prefix + new string('é', 100) };

            var bytes = Encoding.UTF8.GetBytes(owner.Tag);

            Assert.InRange(bytes.Length, AttachmentOwner.MaxTagBytes - 1, AttachmentOwner.MaxTagBytes);
            Assert.DoesNotContain('\uFFFD', owner.Tag);
            Assert.Equal(owner.Tag, Encoding.UTF8.GetString(bytes));
        }
    }

    [Fact]
    public void Owners_that_differ_in_any_part_never_share_a_key()
    {
        var longA = new string('a', 200);
        AttachmentOwner[] owners =
        [
            new("net", "c1", "eth0"),
            new("net", "c1", "eth1"),
            new("net", "c2", "eth0"),
            new("net2", "c1", "eth0"),
            // Same concatenation, different split: the separator must keep them apart.
            new("net", "c1e", "th0"),
            new("netc", "1", "eth0"),
            new("net/c1", "", "eth0"),
            new("net", "c1/eth0", ""),
            // Identical 127-byte tags after cutting: only the keys tell them apart.
            new(longA + "x", "c1", "eth0"),
            new(longA + "y", "c1", "eth0"),
            new(longA, "c1", "eth0"),
        ];

        Assert.Equal(owners.Length, owners.Select(o => o.Key).Distinct().Count());
        Assert.Equal(owners[^3].Tag[26..], owners[^2].Tag[26..]); // same readable tail ...
        Assert.NotEqual(owners[^3].Tag, owners[^2].Tag); // ... different tag
    }

    [Fact]
    public void The_network_key_groups_the_owners_of_one_network()
    {
        Assert.Equal(new AttachmentOwner("net", "c1", "eth0").NetworkKey, new AttachmentOwner("net", "c2", "net1").NetworkKey);
        Assert.NotEqual(new AttachmentOwner("net", "c1", "eth0").NetworkKey, new AttachmentOwner("net2", "c1", "eth0").NetworkKey);
    }

    [Fact]
    public void A_tag_belongs_to_its_network_and_a_key_collision_is_caught_by_the_readable_name()
    {
        Assert.True(AttachmentOwner.TagBelongsTo(Owner.Tag, "mustredirect"));
        Assert.False(AttachmentOwner.TagBelongsTo(Owner.Tag, "other"));

        // The network key of "mustredirect" in front of another network's name: as if two names collided.
        var collided = $"{Owner.NetworkKey}.{Owner.Key} impostor/{Owner.ContainerId}/eth0";
        Assert.False(AttachmentOwner.TagBelongsTo(collided, "mustredirect"));

        // A tail cut before the first '/' cannot be compared: the key decides.
        Assert.True(AttachmentOwner.TagBelongsTo($"{Owner.NetworkKey}.{Owner.Key} mustredir", "mustredirect"));
    }
    [Theory]
    [InlineData("")] // the owner's own tag
    [InlineData("0123abcd.0123456789abcdef net/c/eth0")] // another owner
    [InlineData("KEY")] // the owner's key alone, no tail
    [InlineData("KEY net")]
    [InlineData("KEYx")] // no space after the key
    [InlineData("NETKEY_0123456789abcdef")] // no dot
    [InlineData("UPPER")] // upper-case hex is not ours
    [InlineData("short")]
    public void TagHasKey_answers_as_TryParseTag_and_a_key_comparison_do(string shape)
    {
        var owner = new AttachmentOwner("net1", "container-a", "eth0");
        var tag = shape switch
        {
            "" => owner.Tag,
            "KEY" => $"{owner.NetworkKey}.{owner.Key}",
            "KEY net" => $"{owner.NetworkKey}.{owner.Key} net",
            "KEYx" => $"{owner.NetworkKey}.{owner.Key}x",
            "NETKEY_0123456789abcdef" => $"{owner.NetworkKey}_{owner.Key}",
            "UPPER" => $"{owner.NetworkKey.ToUpperInvariant()}.{owner.Key}",
            _ => shape,
        };

        var expected = AttachmentOwner.TryParseTag(tag, out _, out var key) && key == owner.Key;

        Assert.Equal(expected, AttachmentOwner.TagHasKey(tag, owner.Key));
        Assert.Equal(shape is "" or "KEY" or "KEY net", expected); // the cases mean what their names say
    }
}

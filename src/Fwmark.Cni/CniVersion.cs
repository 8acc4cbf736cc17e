namespace Fwmark.Cni;

/// <summary>
/// A CNI spec version "MAJOR.MINOR.PATCH". Only the three-part decimal form is accepted: the spec never
/// used anything else, and the supported check compares exact strings anyway (as libcni does).
/// </summary>
public readonly record struct CniVersion(int Major, int Minor, int Patch) : IComparable<CniVersion>
{
    public static bool TryParse(string? text, out CniVersion version)
    {
        version = default;
        var parts = text?.Split('.');
        if (parts is not { Length: 3 })
        {
            return false;
        }

        Span<int> numbers = stackalloc int[3];
        for (var i = 0; i < 3; i++)
        {
            // Digits only: int.TryParse would also take signs and surrounding white space.
            if (parts[i].Length is 0 or > 9 || !parts[i].All(char.IsAsciiDigit))
            {
                return false;
            }

            numbers[i] = int.Parse(parts[i]);
        }

        version = new CniVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    public static CniVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"\"{text}\" is not a CNI version (MAJOR.MINOR.PATCH)");

    public int CompareTo(CniVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major)
        : Minor != other.Minor ? Minor.CompareTo(other.Minor)
        : Patch.CompareTo(other.Patch);

    public static bool operator <(CniVersion left, CniVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(CniVersion left, CniVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(CniVersion left, CniVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(CniVersion left, CniVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}

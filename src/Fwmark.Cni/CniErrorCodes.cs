namespace Fwmark.Cni;

/// <summary>Well-known CNI error codes (SPEC.md "Error"); 0–99 are reserved by the spec.</summary>
public static class CniErrorCodes
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int UnknownContainer = 3;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodeFailure = 6;
    public const int InvalidNetworkConfig = 7;
    public const int TryAgainLater = 11;
    public const int PluginNotAvailable = 50;
    public const int PluginNotAvailableDegraded = 51;
    public const int Internal = 999;
}

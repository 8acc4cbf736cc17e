namespace Fwmark.Cni;

public enum CniCommand
{
    Add,
    Del,
    Check,
    Gc,
    Status,
    Version,
}

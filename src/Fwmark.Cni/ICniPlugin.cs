namespace Fwmark.Cni;

/// <summary>
/// What a plugin implements. The dispatcher has already validated the environment and version for the
/// verb, and prints the result (for ADD: prevResult re-encoded at the request's version) itself.
/// Implementations signal failures with <see cref="CniException"/>.
/// </summary>
public interface ICniPlugin
{
    void Add(CniRequest request);

    void Del(CniRequest request);

    void Check(CniRequest request);

    void Gc(CniRequest request);

    void Status(CniRequest request);
}

namespace Fwmark.Linux;

internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>
        /// glibc/musl. The runtime maps the bare name "libc" to the real soname (libc.so.6 on glibc),
        /// which "libc.so" (a linker script on glibc) would not give us.
        /// </summary>
        internal const string Libc = "libc";
    }
}

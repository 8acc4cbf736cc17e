// Does what every CNI plugin must do at minimum — drain stdin, answer on stdout — and nothing else.
using var stdin = Console.OpenStandardInput();
stdin.CopyTo(Stream.Null);
using var stdout = Console.OpenStandardOutput();
stdout.Write("{}\n"u8);
return 0;

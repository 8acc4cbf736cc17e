// Entry point: a CNI invocation when CNI_COMMAND is set, the operator CLI otherwise.
Console.Out.WriteLine("fwmark: not wired yet");
return 0;

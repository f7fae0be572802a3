using Ratchet.Cli;

return await RatchetCli.RunAsync(args, Console.Out, Console.Error);

using System.Reflection;

// A shell that builds and runs, so that the solution layout, packaging and the README's first command are in place
// before the commands exist. Exit codes follow DESIGN.md: 0 done, 2 bad usage.
if (args is ["--version"])
{
    var version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString()
        ?? "unknown";
    Console.WriteLine($"ratchet {version}");
    return 0;
}

var problem = args.Length == 0 ? "no command given" : $"command '{args[0]}' is not available yet";
await Console.Error.WriteLineAsync(
    $"ratchet: {problem}: this build is a shell and its commands (run, worker, state, kv, ...) arrive in a later issue. Only --version works today.");
return 2;

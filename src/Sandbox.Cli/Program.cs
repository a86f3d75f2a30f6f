return await Sandbox.Cli.SandboxCli.RunAsync(args);

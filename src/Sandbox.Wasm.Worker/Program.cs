using Sandbox.Wasm.Worker;

// One run: a request and a module in on stdin, output chunks and the outcome out on stdout (WorkerFrames).
// The service started this process inside its sandbox and kills it at the deadline; see WasmBackend.
using var input = Console.OpenStandardInput();
using var output = Console.OpenStandardOutput();
return WorkerRuntime.Run(input, output, TimeProvider.System, Console.Error);

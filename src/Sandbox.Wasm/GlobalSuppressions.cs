using System.Diagnostics.CodeAnalysis;

// Temporary, for issue 10: WasmEngine.Compile gained an overload taking the run's deadline, and CA2016 asks every
// caller that has a token to pass it. The backend (Backend/, being rewritten in another branch) takes it up there
// with engine.Compile(bytes, token); delete this file once it does.
[assembly: SuppressMessage("Reliability", "CA2016:Forward the 'CancellationToken' parameter to methods", Justification = "Backend/ is rewired to Compile(bytes, token) in its own branch (issue 10)", Scope = "namespaceanddescendants", Target = "~N:Sandbox.Wasm.Backend")]

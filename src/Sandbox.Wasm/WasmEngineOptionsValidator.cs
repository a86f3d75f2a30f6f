namespace Sandbox.Wasm;

/// <summary>Checks a <see cref="WasmEngineOptions"/> once, when an engine is created, reporting every problem at once.</summary>
internal static class WasmEngineOptionsValidator
{
    public static void Validate(WasmEngineOptions options)
    {
        var errors = new List<string>();
        void Positive(int value, string name)
        {
            if (value <= 0)
            {
                errors.Add($"{nameof(WasmEngineOptions)}.{name} is {value}; it must be positive.");
            }
        }

        Positive(options.MaxModuleBytes, nameof(options.MaxModuleBytes));
        Positive(options.MaxTypes, nameof(options.MaxTypes));
        Positive(options.MaxFunctions, nameof(options.MaxFunctions));
        Positive(options.MaxImports, nameof(options.MaxImports));
        Positive(options.MaxExports, nameof(options.MaxExports));
        Positive(options.MaxGlobals, nameof(options.MaxGlobals));
        Positive(options.MaxTables, nameof(options.MaxTables));
        Positive(options.MaxSegments, nameof(options.MaxSegments));
        Positive(options.MaxFunctionTypeArity, nameof(options.MaxFunctionTypeArity));
        Positive(options.MaxFunctionBodyBytes, nameof(options.MaxFunctionBodyBytes));
        Positive(options.MaxLocals, nameof(options.MaxLocals));
        Positive(options.MaxTotalLocals, nameof(options.MaxTotalLocals));
        Positive(options.MaxBlockDepth, nameof(options.MaxBlockDepth));
        Positive(options.MaxCallDepth, nameof(options.MaxCallDepth));
        Positive(options.CompileThreshold, nameof(options.CompileThreshold));
        Positive(options.CompileLoopThreshold, nameof(options.CompileLoopThreshold));
        Positive(options.CompileFuelThreshold, nameof(options.CompileFuelThreshold));
        Positive(options.CompileMaxInstructions, nameof(options.CompileMaxInstructions));
        Positive(options.CompileRegionIlBytes, nameof(options.CompileRegionIlBytes));
        Positive(options.CompileMaxWork, nameof(options.CompileMaxWork));
        Positive(options.ValueStackSlots, nameof(options.ValueStackSlots));
        Positive(options.ExecutionThreadStackBytes, nameof(options.ExecutionThreadStackBytes));
        if (options.MaxMemoryPages is < 0 or > WasmEngine.MaxPagesInArray)
        {
            errors.Add($"{nameof(WasmEngineOptions)}.{nameof(options.MaxMemoryPages)} is {options.MaxMemoryPages}; it must be between 0 and {WasmEngine.MaxPagesInArray} (a memory is one byte[], at most 2 GiB).");
        }

        if (options.MaxTableElements < 0)
        {
            errors.Add($"{nameof(WasmEngineOptions)}.{nameof(options.MaxTableElements)} is {options.MaxTableElements}; it must not be negative.");
        }

        if (options.MaxTableBytes < 0)
        {
            errors.Add($"{nameof(WasmEngineOptions)}.{nameof(options.MaxTableBytes)} is {options.MaxTableBytes}; it must not be negative.");
        }

        if (options.MemoryBudgetBytes < 0)
        {
            errors.Add($"{nameof(WasmEngineOptions)}.{nameof(options.MemoryBudgetBytes)} is {options.MemoryBudgetBytes}; it must not be negative (null means no shared budget).");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, errors), nameof(options));
        }
    }
}

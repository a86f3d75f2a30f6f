namespace Sandbox.Wasm.Decoding;

/// <summary>The decoded, not yet validated, contents of a module. Index spaces put imports first.</summary>
internal sealed class ModuleDefinition
{
    public required byte[] Bytes { get; init; }

    public List<FunctionType> Types { get; } = [];

    public List<ImportDescriptor> Imports { get; } = [];

    /// <summary>Type index of every function, imported ones first.</summary>
    public List<int> FunctionTypes { get; } = [];

    public List<TableType> Tables { get; } = [];

    public List<Limits> Memories { get; } = [];

    public List<GlobalType> Globals { get; } = [];

    /// <summary>Initialisers of the defined (non-imported) globals.</summary>
    public List<ConstantExpression> GlobalInitializers { get; } = [];

    public List<ExportDescriptor> Exports { get; } = [];

    public int? StartFunction { get; set; }

    public List<ElementSegment> Elements { get; } = [];

    public List<DataSegment> Data { get; } = [];

    public int? DataCount { get; set; }

    public List<FunctionBody> Bodies { get; } = [];

    public int ImportedFunctionCount { get; set; }

    public int ImportedTableCount { get; set; }

    public int ImportedMemoryCount { get; set; }

    public int ImportedGlobalCount { get; set; }
}

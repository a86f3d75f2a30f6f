using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Sandbox.Wasm.Tests.Conformance;

/// <summary>
/// Runs one wast2json command file against a fresh engine (one store per file, as the reference
/// interpreter does) on the engine's big-stack execution thread. Module commands count as checks too.
/// </summary>
internal static class SpecTestRunner
{
    private const string TextModuleSkip = "text-format module (.wat): this engine decodes binaries only";

    public static SpecFileResult Run(string root, string name, WasmEngineOptions? options = null)
    {
        var engine = new WasmEngine(options);
        var result = engine.RunOnExecutionThread(() => RunOnThread(engine, root, name));
        result.Compiled = engine.Interpreter.CompiledFunctionCount;
        result.CompileFallbacks = engine.Interpreter.CompileFallbackCount;
        result.Split = engine.Interpreter.SplitFunctionCount;
        return result;
    }

    private static SpecFileResult RunOnThread(WasmEngine engine, string root, string name)
    {
        var result = new SpecFileResult(name);
        var watch = Stopwatch.StartNew();
        var dir = Path.Combine(root, name);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, name + ".json")));
        var linker = new WasmLinker();
        SpecTestHost.Define(engine, linker);
        var named = new Dictionary<string, WasmInstance>(StringComparer.Ordinal);
        WasmInstance? current = null;

        foreach (var command in json.RootElement.GetProperty("commands").EnumerateArray())
        {
            var type = command.GetProperty("type").GetString()!;
            var line = command.GetProperty("line").GetInt32();
            void Fail(string why)
            {
                result.Failed++;
                result.Failures.Add($"{name}:{line} {type}: {why}");
            }

            void Skip(string why)
            {
                result.Skipped++;
                result.Skips.Add($"{name}:{line} {type}: {why}");
            }

            try
            {
                switch (type)
                {
                    case "module":
                    {
                        current = null;
                        var module = engine.Compile(File.ReadAllBytes(Path.Combine(dir, command.GetProperty("filename").GetString()!)));
                        current = engine.Instantiate(module, linker);
                        if (command.TryGetProperty("name", out var n))
                        {
                            named[n.GetString()!] = current;
                        }

                        result.Passed++;
                        break;
                    }

                    case "register":
                    {
                        var instance = command.TryGetProperty("name", out var n) ? named[n.GetString()!] : current;
                        if (instance is null)
                        {
                            Fail("no module to register");
                            break;
                        }

                        linker.DefineInstance(command.GetProperty("as").GetString()!, instance);
                        break;
                    }

                    case "action":
                        Perform(engine, command.GetProperty("action"), named, current);
                        result.Passed++;
                        break;
                    case "assert_return":
                    {
                        var actual = Perform(engine, command.GetProperty("action"), named, current);
                        var expected = command.GetProperty("expected").EnumerateArray().ToList();
                        if (actual.Length != expected.Count)
                        {
                            Fail($"expected {expected.Count} results, got {actual.Length}");
                            break;
                        }

                        var mismatch = Enumerable.Range(0, actual.Length).FirstOrDefault(i => !Matches(expected[i], actual[i]), -1);
                        if (mismatch >= 0)
                        {
                            Fail($"result {mismatch}: expected {expected[mismatch]}, got {actual[mismatch]} (bits 0x{actual[mismatch].Bits:X})");
                        }
                        else
                        {
                            result.Passed++;
                        }

                        break;
                    }

                    case "assert_trap":
                    case "assert_exhaustion":
                    case "assert_uninstantiable":
                    {
                        var text = command.GetProperty("text").GetString()!;
                        try
                        {
                            if (command.TryGetProperty("action", out var action))
                            {
                                Perform(engine, action, named, current);
                            }
                            else
                            {
                                var module = engine.Compile(File.ReadAllBytes(Path.Combine(dir, command.GetProperty("filename").GetString()!)));
                                engine.Instantiate(module, linker);
                            }

                            Fail($"expected trap \"{text}\", but it returned");
                        }
                        catch (WasmTrapException e)
                        {
                            if (text.StartsWith(e.Message, StringComparison.Ordinal) || e.Message.StartsWith(text, StringComparison.Ordinal))
                            {
                                result.Passed++;
                            }
                            else
                            {
                                Fail($"expected trap \"{text}\", got \"{e.Message}\"");
                            }
                        }

                        break;
                    }

                    case "assert_invalid":
                    case "assert_malformed":
                    case "assert_unlinkable":
                    {
                        var text = command.GetProperty("text").GetString()!;
                        if (command.GetProperty("module_type").GetString() == "text")
                        {
                            Skip(TextModuleSkip);
                            break;
                        }

                        try
                        {
                            var module = engine.Compile(File.ReadAllBytes(Path.Combine(dir, command.GetProperty("filename").GetString()!)));
                            if (type == "assert_unlinkable")
                            {
                                engine.Instantiate(module, linker);
                            }

                            Fail($"expected failure \"{text}\", but the module was accepted");
                        }
                        catch (WasmDecodeException) when (type == "assert_malformed" || type == "assert_invalid")
                        {
                            result.Passed++;
                        }
                        catch (WasmValidationException) when (type == "assert_invalid" || type == "assert_malformed")
                        {
                            result.Passed++;
                        }
                        catch (WasmLinkException) when (type == "assert_unlinkable")
                        {
                            result.Passed++;
                        }

                        break;
                    }

                    default:
                        Skip($"unknown command type {type}");
                        break;
                }
            }
#pragma warning disable CA1031 // Every unexpected exception is one failed assertion, reported with its message.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail($"{e.GetType().Name}: {e.Message}");
            }
        }

        result.Elapsed = watch.Elapsed;
        return result;
    }

    private static WasmValue[] Perform(WasmEngine engine, JsonElement action, Dictionary<string, WasmInstance> named, WasmInstance? current)
    {
        var instance = action.TryGetProperty("module", out var m) ? named[m.GetString()!] : current
            ?? throw new InvalidOperationException("no current module");
        var field = action.GetProperty("field").GetString()!;
        if (action.GetProperty("type").GetString() == "get")
        {
            var global = instance.GetGlobal(field) ?? throw new InvalidOperationException($"no global {field}");
            return [global.Value];
        }

        var function = instance.GetFunction(field) ?? throw new InvalidOperationException($"no function {field}");
        var args = action.GetProperty("args").EnumerateArray().Select(ParseValue).ToArray();
        return engine.Invoke(function, args);
    }

    private static WasmValue ParseValue(JsonElement v)
    {
        var type = v.GetProperty("type").GetString();
        var text = v.GetProperty("value").GetString()!;
        return type switch
        {
            "i32" => new WasmValue(WasmValueType.I32, uint.Parse(text, CultureInfo.InvariantCulture)),
            "i64" => new WasmValue(WasmValueType.I64, ulong.Parse(text, CultureInfo.InvariantCulture)),
            "f32" => new WasmValue(WasmValueType.F32, uint.Parse(text, CultureInfo.InvariantCulture)),
            "f64" => new WasmValue(WasmValueType.F64, ulong.Parse(text, CultureInfo.InvariantCulture)),
            "externref" => new WasmValue(WasmValueType.ExternRef, text == "null" ? 0 : ulong.Parse(text, CultureInfo.InvariantCulture) + 1),
            "funcref" => new WasmValue(WasmValueType.FuncRef, text == "null" ? 0 : ulong.Parse(text, CultureInfo.InvariantCulture) + 1),
            _ => throw new NotSupportedException($"value type {type}"),
        };
    }

    private static bool Matches(JsonElement expected, WasmValue actual)
    {
        var type = expected.GetProperty("type").GetString();
        var text = expected.TryGetProperty("value", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "f32" when text == "nan:canonical":
                return actual.Type == WasmValueType.F32 && ((uint)actual.Bits & 0x7FFF_FFFF) == 0x7FC0_0000;
            case "f32" when text == "nan:arithmetic":
                return actual.Type == WasmValueType.F32 && ((uint)actual.Bits & 0x7FC0_0000) == 0x7FC0_0000;
            case "f64" when text == "nan:canonical":
                return actual.Type == WasmValueType.F64 && (actual.Bits & 0x7FFF_FFFF_FFFF_FFFF) == 0x7FF8_0000_0000_0000;
            case "f64" when text == "nan:arithmetic":
                return actual.Type == WasmValueType.F64 && (actual.Bits & 0x7FF8_0000_0000_0000) == 0x7FF8_0000_0000_0000;
            case "funcref" when text is null:
                return actual.Type == WasmValueType.FuncRef && actual.Bits != 0;
            default:
                var e = ParseValue(expected);
                return e.Type == actual.Type && (e.Type == WasmValueType.I32 || e.Type == WasmValueType.F32 ? (uint)e.Bits == (uint)actual.Bits : e.Bits == actual.Bits);
        }
    }
}

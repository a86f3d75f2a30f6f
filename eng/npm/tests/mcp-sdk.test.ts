// The official MCP TypeScript SDK as the client of a real `sandbox mcp` on stdio: what an MCP host (Claude Desktop,
// an IDE, an agent framework) does with it. Run by McpSdkClientTests (the service's integration suite), which creates
// the agent's store and passes how to start the server: SANDBOX_MCP_COMMAND, SANDBOX_MCP_ARGS (a JSON array), and the
// server's environment (SANDBOX_DATA and the like) inherited from this process. The agent may run python, bash and c,
// one run at a time.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { Ajv } from "ajv";

const command = process.env.SANDBOX_MCP_COMMAND;
const args: string[] = JSON.parse(process.env.SANDBOX_MCP_ARGS ?? "[]");
assert.ok(command, "SANDBOX_MCP_COMMAND is not set: McpSdkClientTests runs this file");

const client = new Client({ name: "sandbox-mcp-sdk-test", version: "1.0.0" });
const transport = new StdioClientTransport({
  command,
  args,
  env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
  stderr: "pipe",
});
let serverLog = "";
transport.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));

let tools: Tool[] = [];
const ajv = new Ajv({ strict: false });

before(async () => {
  await client.connect(transport);
  // listTools also caches each tool's outputSchema: from then on the SDK itself rejects a call whose structuredContent
  // does not match it (McpError), on top of the explicit check below.
  tools = (await client.listTools()).tools;
});

after(async () => {
  await client.close();
});

function runCode(): Tool {
  const tool = tools.find((t) => t.name === "run_code");
  assert.ok(tool, "run_code is listed");
  return tool;
}

/** The structured content, checked against run_code's outputSchema with ajv (independently of the SDK's own check). */
function structured(result: CallToolResult): Record<string, unknown> {
  const schema = runCode().outputSchema;
  assert.ok(schema, "run_code declares an outputSchema");
  const content = result.structuredContent;
  assert.ok(content, `the result has structuredContent: ${JSON.stringify(result)}`);
  const validate = ajv.compile(schema);
  assert.ok(validate(content), `structuredContent matches the outputSchema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(content)}`);
  return content;
}

async function run(language: string, code: string, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<CallToolResult> {
  return (await client.callTool({ name: "run_code", arguments: { language, code, ...extra } }, undefined, { signal, timeout: 120_000 })) as CallToolResult;
}

test("tools/list offers run_code, list_languages, get_run and the session tools, each with an outputSchema, for this agent's languages only", () => {
  assert.deepEqual(tools.map((t) => t.name).sort(), ["close_session", "get_run", "list_languages", "open_session", "run_code"]);
  for (const tool of tools) {
    assert.equal(tool.outputSchema?.type, "object", `${tool.name} declares an outputSchema`);
  }

  const language = (runCode().inputSchema.properties as Record<string, { enum?: string[] }>).language;
  assert.deepEqual([...(language.enum ?? [])].sort(), ["bash", "c", "python"]);
  assert.deepEqual(runCode().inputSchema.required, ["language", "code"]);
});

test("run_code ok: typed stdout in structuredContent, no error", async () => {
  const result = await run("python", "print('hello from the MCP SDK')");

  const content = structured(result);
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.equal(content.status, "ok");
  assert.equal(content.exitCode, 0);
  assert.equal(content.stdout, "hello from the MCP SDK\n");
  const text = result.content.find((c) => c.type === "text");
  assert.ok(text && text.type === "text" && text.text.includes("hello from the MCP SDK"), "the text carries the output too");
});

test("run_code runtime_error: a tool error with the status, exit code, stderr and a hint", async () => {
  const result = await run("python", "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)");

  const content = structured(result);
  assert.equal(result.isError, true);
  assert.equal(content.status, "runtime_error");
  assert.equal(content.exitCode, 3);
  assert.equal(content.stderr, "oops\n");
  assert.equal(typeof content.hint, "string");
});

// Each way a program can fail, as the model sees it: a tool error whose structuredContent (valid against the schema)
// names the status, with a hint; the limits are tightened in the call so each run is short.
const failures: { status: string; language: string; code: string; limits?: Record<string, number>; check?: (c: Record<string, unknown>) => void }[] = [
  { status: "compile_error", language: "c", code: "int main(void) { return missing; }" },
  { status: "timeout", language: "bash", code: "sleep 20", limits: { wallTimeMs: 1500 } },
  { status: "cpu_limit", language: "bash", code: "while :; do :; done", limits: { cpuTimeMs: 500 } },
  {
    status: "memory_limit",
    language: "python",
    code: "x = bytearray(200 * 1024 * 1024)\nprint(len(x))",
    limits: { memoryBytes: 64 * 1024 * 1024 },
  },
  {
    status: "output_limit",
    language: "bash",
    code: "yes flood | head -c 100000",
    limits: { stdoutBytes: 1000 },
    check: (c) => assert.equal(c.stdoutTruncated, true),
  },
];

for (const failure of failures) {
  test(`run_code ${failure.status}: a tool error naming the status, with a hint`, async () => {
    const result = await run(failure.language, failure.code, failure.limits ? { limits: failure.limits } : {});

    const content = structured(result);
    assert.equal(result.isError, true, JSON.stringify(result));
    assert.equal(content.status, failure.status, JSON.stringify(content));
    assert.equal(typeof content.hint, "string");
    failure.check?.(content);
  });
}

test("run_code rejected: limits above the profile name the field, and nothing ran", async () => {
  const result = await run("python", "print(1)", { limits: { memoryBytes: 99_999_999_999 } });

  const content = structured(result);
  assert.equal(result.isError, true);
  assert.equal(content.status, "rejected");
  const errors = content.errors as { field: string; message: string }[];
  assert.ok(errors.some((e) => e.field === "limits.memoryBytes"), JSON.stringify(errors));
  assert.equal(content.exitCode, undefined);
});

test("run_code rejected: a language off the agent's allow-list is refused naming the field", async () => {
  const result = await run("javascript", "console.log(1)");

  const content = structured(result);
  assert.equal(result.isError, true);
  assert.equal(content.status, "rejected");
  const errors = (content.errors ?? []) as { field: string }[];
  assert.ok(errors.some((e) => e.field === "language" || e.field === "profile"), JSON.stringify(content));
});

test("cancelling a call (AbortSignal, sent as notifications/cancelled) cancels the run and frees the agent's one slot", async () => {
  const abort = new AbortController();
  const call = run("bash", "echo started; sleep 30", {}, abort.signal);
  // Let the run reach its container: killing a running run is the case that used to leak the slot.
  const early = await Promise.race([call, new Promise<null>((resolve) => setTimeout(() => resolve(null), 3_000))]);
  assert.equal(early, null, `the 30 s run answered before it was cancelled: ${JSON.stringify(early)}`);
  const aborted = Date.now();
  abort.abort(new Error("the user changed their mind"));
  await assert.rejects(call, /changed their mind/, "the aborted call rejects at once");

  // One run at a time: while the cancelled run held its slot, calls were refused with cap_exceeded (concurrent_runs).
  // The kill is asynchronous, so a refusal in the first moments is retried; a slot still held after 8 s is a failure
  // (the run itself would end only at bash's 10 s wall limit).
  let content: Record<string, unknown> = {};
  while (Date.now() - aborted < 8_000) {
    content = structured(await run("bash", "echo still-here"));
    if (content.status === "ok") {
      break;
    }

    assert.equal((content.problem as { code?: string } | undefined)?.code, "cap_exceeded", JSON.stringify(content));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  assert.equal(content.status, "ok", `the slot was not freed within 8 s of the cancel: ${JSON.stringify(content)}\n${serverLog.slice(-2000)}`);
  assert.equal(content.stdout, "still-here\n");
});

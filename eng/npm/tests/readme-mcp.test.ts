// The README's MCP section, followed by an MCP host: ReadmeMcpTests writes the client configuration the README shows
// (its paths made real) to SANDBOX_MCP_CONFIG after running the README's `sandbox agents create` command; this file
// starts each configured server the way MCP hosts do (the command, its args, and its env over the SDK's default
// inherited environment) with the official TypeScript SDK, and runs Python through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

interface ServerConfig {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

const configPath = process.env.SANDBOX_MCP_CONFIG;
assert.ok(configPath, "SANDBOX_MCP_CONFIG is not set: ReadmeMcpTests runs this file");
const servers: Record<string, ServerConfig> = JSON.parse(readFileSync(configPath, "utf8")).mcpServers;

for (const [name, server] of Object.entries(servers)) {
  test(`mcpServers.${name}: lists run_code for the agent's language and runs Python`, async () => {
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env: { ...getDefaultEnvironment(), ...server.env },
      stderr: "pipe",
    });
    let log = "";
    transport.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
    const client = new Client({ name: "readme-mcp-host", version: "1.0.0" });
    try {
      await client.connect(transport);
      const tools = (await client.listTools()).tools;
      const runCode = tools.find((t) => t.name === "run_code");
      assert.ok(runCode, `run_code is listed\n${log}`);
      const language = (runCode.inputSchema.properties as Record<string, { enum?: string[] }>).language;
      assert.deepEqual(language.enum, ["python"], "the agent was created with --profile python only");

      const result = (await client.callTool({ name: "run_code", arguments: { language: "python", code: "print(1+1)" } })) as CallToolResult;
      const content = result.structuredContent ?? {};
      assert.equal(content.status, "ok", `${JSON.stringify(result)}\n${log}`);
      assert.equal(content.stdout, "2\n");
    } finally {
      await client.close();
    }
  });
}

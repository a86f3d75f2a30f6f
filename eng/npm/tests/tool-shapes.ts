// The vendor SDKs' own types for a tool definition. ToolShapesTests fetches GET /v1/tools?format=… from a real
// `sandbox serve` and writes generated/tools.ts, which assigns each answer, as an object literal, to its field here;
// `tsc --noEmit -p tsconfig.tools.json` then fails on a missing field, a wrong literal ("function" where Anthropic wants
// `input_schema`) or a field the SDK does not know (excess-property checks apply to literals).
import type OpenAI from "openai";
import type Anthropic from "@anthropic-ai/sdk";
import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";

export interface ToolShapes {
  /** `tools` of OpenAI's Chat Completions (`client.chat.completions.create({ tools })`). */
  openai: OpenAI.Chat.Completions.ChatCompletionFunctionTool[];
  /** `tools` of Anthropic's Messages API (`client.messages.create({ tools })`). */
  anthropic: Anthropic.Messages.Tool[];
  /** One entry of MCP's `tools/list` result, as the official TypeScript SDK types it. */
  mcp: McpTool[];
}

// A client generated from the served /openapi/v1.json (openapi-typescript) and driven with openapi-fetch, as users do.
// tsc type-checks it first: if the document stopped declaring `result` on the 200, `run.result.stdout` would not compile.
// Run by OpenApiClientTests (the service's integration suite), which starts `sandbox serve` and passes its URL and a key.
import { test } from "node:test";
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "../generated/sandbox-api.js";

type RunView = components["schemas"]["RunView"];
type CreateRunOk = paths["/v1/runs"]["post"]["responses"][200]["content"]["application/json"];
type CreateRunOkRun = Extract<CreateRunOk, { result: unknown }>;

// Compile-time: the 200 itself (not only the 202) can be a run whose result has stdout; the document once declared
// only the dry run's shape there, and then this line does not compile.
const okCarriesStdout: [CreateRunOkRun] extends [never] ? false : NonNullable<CreateRunOkRun["result"]>["stdout"] extends string ? true : false = true;

const client = createClient<paths>({
  baseUrl: process.env.SANDBOX_URL,
  headers: { Authorization: `Bearer ${process.env.SANDBOX_API_KEY}` },
});

test("POST /v1/runs answers the run with a typed result.stdout", async () => {
  const { data, error, response } = await client.POST("/v1/runs", {
    body: { language: "python", code: "print('hello from a generated client')", purpose: "openapi client test" },
  });

  assert.equal(response.status, 200, JSON.stringify(error));
  assert.ok(okCarriesStdout);
  assert.ok(data !== undefined && "result" in data, "a run, not a dry run");
  const run: RunView = data;
  assert.ok(run.result !== null);
  const stdout: string = run.result.stdout;
  assert.equal(stdout, "hello from a generated client\n");
  assert.equal(run.result.status, "ok");
});

test("a dry run answers the plan, typed as the other shape of the 200", async () => {
  const { data, response } = await client.POST("/v1/runs", { body: { language: "python", code: "print(1)", dryRun: true } });

  assert.equal(response.status, 200);
  assert.ok(data !== undefined && "wouldRun" in data);
  assert.equal(data.profile, "python");
});

test("a refusal is a problem with its code", async () => {
  const { error, response } = await client.GET("/v1/runs/{id}", { params: { path: { id: "run_unknown" } } });

  assert.equal(response.status, 404);
  assert.equal(error?.code, "run_not_found");
});

test("SSE: a reconnect with the final event's Last-Event-ID gets the result again at once, then the stream closes", async () => {
  const { data } = await client.POST("/v1/runs", { body: { language: "python", code: "print('streamed')" } });
  assert.ok(data !== undefined && "result" in data, "a completed run");
  const stream = await client.GET("/v1/runs/{id}/events", {
    params: { path: { id: data.id } },
    parseAs: "text",
    signal: AbortSignal.timeout(20_000),
  });
  assert.equal(stream.response.status, 200);
  assert.equal(stream.response.headers.get("content-type")?.split(";")[0], "text/event-stream");
  const ids = [...(stream.data ?? "").matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.ok(ids.length > 0 && /event: result/.test(stream.data ?? ""), stream.data);

  // What a standard EventSource does about 3 s after `result`: reconnect with the last id. It once hung for 300 s.
  const started = Date.now();
  const resumed = await client.GET("/v1/runs/{id}/events", {
    params: { path: { id: data.id }, header: { "Last-Event-ID": String(Math.max(...ids)) } },
    parseAs: "text",
    signal: AbortSignal.timeout(10_000),
  });
  assert.ok(Date.now() - started < 3_000, `the resumed stream took ${Date.now() - started} ms`);
  const events = [...(resumed.data ?? "").matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.deepEqual(events, ["result"], resumed.data);
});

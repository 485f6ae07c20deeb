// Check Flux queries with InfluxData's Flux language server (@influxdata/flux-lsp-node).
//
// stdin:  a JSON list of {"name": ..., "query": ...}
// stdout: a JSON object {name: [diagnostic, ...]}, each diagnostic as the server publishes it
//         ({message, range: {start: {line, character}, end: ...}, severity, source}; lines
//         and characters count from 0)
// stderr: the server's own log lines, and the reason of a failure (exit status 1)
//
// The server speaks LSP JSON-RPC as plain JSON strings: `send` takes a client message and
// resolves to the response of a request; notifications from the server (publishDiagnostics)
// reach the handler given to `onMessage`, which must be attached before `run`.
//
// Every query is opened alone, in a folder of its own, and closed once its diagnostics came:
// the server treats the open documents of one folder as one Flux package, so a name defined in
// one query would hide an undefined name in another, and it re-publishes the diagnostics of
// every document of the package on each change. A query whose diagnostics do not come within
// --timeout-ms fails the whole check: silence is never read as "no problems".
//
// Options: --timeout-ms N (default 10000) per query; --drop-diagnostics-of NAME discards what
// the server publishes for that query, to show that a silent server fails the check.

import { createRequire } from "node:module";
import { format } from "node:util";

// The server logs through console; stdout carries only the result.
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
  console[level] = (...args) => process.stderr.write(format(...args) + "\n");
}

const require = createRequire(import.meta.url);
const { Lsp } = require("@influxdata/flux-lsp-node");

function options(argv) {
  const found = { timeoutMs: 10000, drop: new Set() };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--timeout-ms") found.timeoutMs = Number(argv[++i]);
    else if (argv[i] === "--drop-diagnostics-of") found.drop.add(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!(found.timeoutMs > 0)) throw new Error("--timeout-ms needs a positive number");
  return found;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const queries = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (!Array.isArray(queries)) throw new Error("stdin must hold a JSON list");
  const names = new Set();
  for (const item of queries) {
    if (typeof item?.name !== "string" || typeof item?.query !== "string") {
      throw new Error(`each item needs a string name and query: ${JSON.stringify(item)}`);
    }
    if (names.has(item.name)) throw new Error(`duplicate name ${JSON.stringify(item.name)}`);
    names.add(item.name);
  }
  return queries;
}

class Client {
  constructor(dropUris) {
    this.waiting = new Map(); // uri -> {resolve, reject, timer}
    this.done = new Set();
    this.dropUris = dropUris;
    this.failure = null;
    this.nextId = 1;
    this.lsp = new Lsp();
    this.lsp.onMessage((text) => this.received(text));
    this.lsp.run().then(
      () => this.fail(new Error("the language server stopped")),
      (error) => this.fail(new Error(`the language server failed: ${error}`)),
    );
  }

  fail(error) {
    this.failure ??= error;
    for (const { reject, timer } of this.waiting.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.waiting.clear();
  }

  received(text) {
    const message = JSON.parse(text);
    if (message.method !== "textDocument/publishDiagnostics") {
      process.stderr.write(`flux_check: server message ignored: ${text}\n`);
      return;
    }
    const { uri, diagnostics } = message.params;
    if (this.dropUris.has(uri)) return;
    const waiter = this.waiting.get(uri);
    if (waiter === undefined) {
      // Each query is alone in its folder and closed after its answer, so the server has no
      // reason to speak of any other document; if it does, the isolation did not hold.
      const which = this.done.has(uri) ? "a query already answered" : "an unknown document";
      this.fail(new Error(`diagnostics for ${which} (${uri}): ${text}`));
      return;
    }
    this.waiting.delete(uri);
    this.done.add(uri);
    clearTimeout(waiter.timer);
    waiter.resolve(diagnostics);
  }

  async request(method, params) {
    const id = this.nextId++;
    const answer = await this.lsp.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    const parsed = typeof answer === "string" ? JSON.parse(answer) : answer;
    if (parsed?.id !== id || parsed.error !== undefined) {
      throw new Error(`${method}: unexpected answer ${JSON.stringify(answer)}`);
    }
    return parsed.result;
  }

  async notify(method, params) {
    await this.lsp.send(JSON.stringify({ jsonrpc: "2.0", method, params }));
  }

  async diagnose(uri, text, timeoutMs) {
    if (this.failure) throw this.failure;
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(uri);
        reject(new Error(`no publishDiagnostics for ${uri} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(uri, { resolve, reject, timer });
    });
    await this.notify("textDocument/didOpen", {
      textDocument: { uri, languageId: "flux", version: 1, text },
    });
    const diagnostics = await answer;
    await this.notify("textDocument/didClose", { textDocument: { uri } });
    return diagnostics;
  }
}

async function main() {
  const opts = options(process.argv.slice(2));
  const queries = await readStdin();
  const uriOf = (index) => `file:///noiselab-flux-check/${index}/query.flux`;
  const dropUris = new Set(
    queries.flatMap((item, index) => (opts.drop.has(item.name) ? [uriOf(index)] : [])),
  );
  const client = new Client(dropUris);
  const init = await client.request("initialize", {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
  });
  if (typeof init?.capabilities !== "object") {
    throw new Error(`initialize: no capabilities in ${JSON.stringify(init)}`);
  }
  await client.notify("initialized", {});
  const result = {};
  for (const [index, { name, query }] of queries.entries()) {
    try {
      result[name] = await client.diagnose(uriOf(index), query, opts.timeoutMs);
    } catch (error) {
      throw new Error(`query ${JSON.stringify(name)}: ${error.message}`);
    }
  }
  if (client.failure) throw client.failure;
  await client.request("shutdown", null);
  await client.notify("exit", null);
  return result;
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0)),
  (error) => {
    process.stderr.write(`flux_check: ${error.message}\n`);
    process.exit(1);
  },
);

// The string literals of Flux queries as Flux's own parser reads them (@influxdata/flux-lsp-node
// `parse`, the parser of the Flux language server).
//
// stdin:  a JSON list of {"name": ..., "query": ...}
// stdout: a JSON object {name: {"literals": [value, ...], "interpolated": [source, ...],
//         "errors": [message, ...]}}: the decoded value of every string literal, in source order;
//         the source of every string with a ${...} interpolation (which a query built from data
//         must never contain); and the parser's errors anywhere in the tree (bad statements
//         and expressions included).

import { createRequire } from "node:module";
import { format } from "node:util";

for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
  console[level] = (...args) => process.stderr.write(format(...args) + "\n");
}

const require = createRequire(import.meta.url);
const { parse } = require("@influxdata/flux-lsp-node");

function walk(node, found) {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, found);
    return;
  }
  if (node === null || typeof node !== "object") return;
  for (const error of node.errors ?? []) found.errors.push(error.msg ?? JSON.stringify(error));
  if (typeof node.type === "string" && node.type.startsWith("Bad")) {
    found.errors.push(`${node.type}: ${node.text ?? node.location?.source ?? ""}`);
  }
  if (node.type === "StringLiteral") found.literals.push(node.value);
  if (node.type === "StringExpression") found.interpolated.push(node.location?.source ?? "");
  for (const [key, value] of Object.entries(node)) {
    if (key !== "location" && key !== "errors") walk(value, found);
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const result = {};
for (const { name, query } of JSON.parse(Buffer.concat(chunks).toString("utf8"))) {
  const found = { literals: [], interpolated: [], errors: [] };
  walk(parse(query), found);
  result[name] = found;
}
process.stdout.write(JSON.stringify(result) + "\n");

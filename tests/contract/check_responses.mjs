// check_responses.mjs OPENAPI_FILE RECORD_FILE
//
// The HTTP contract, checked by third-party tools: the OpenAPI document is
// linted by @apidevtools/swagger-parser (structure against the OpenAPI 3.1
// schema, every $ref resolved), then every answer the HTTP integration
// tests recorded (tests/integration/h_http.c, EF_HTTP_RECORD: one JSON line
// {method, path, status, content_type, body} each) is validated against the
// document with Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses): its route
// and method exist, its status is documented, its Content-Type is one the
// operation names, and its body matches that media type's schema. Answers
// for paths the API does not serve (404, 405) must be Problems.
// Prints each mismatch (grouped, with a count) and ends with
// "N passed, M failed"; exits 0 only when everything matched.
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [specPath, recordPath] = process.argv.slice(2);
if (!specPath || !recordPath) {
  console.error("usage: check_responses.mjs OPENAPI_FILE RECORD_FILE");
  process.exit(2);
}

let failed = 0;
let passed = 0;

// ------------------------------------------------------------------ lint
try {
  await SwaggerParser.validate(specPath);
  console.log(`ok: ${specPath} is a valid OpenAPI document`);
  passed++;
} catch (e) {
  console.log(`FAIL: ${specPath} does not lint: ${e.message}`);
  failed++;
}
const spec = await SwaggerParser.parse(specPath);

// ------------------------------------------------------------------ routes
const METHODS = ["get", "put", "post", "patch", "delete", "head", "options"];
const routes = Object.keys(spec.paths).map((template) => ({
  template,
  segments: template.split("/"),
  literal: template.split("/").filter((s) => !s.startsWith("{")).length,
}));

// The template of a concrete path: segments equal or {param} (one
// non-empty segment); the most literal match wins (/dlq/replay over
// /dlq/{event_id}).
function routeOf(path) {
  const segs = path.split("?")[0].split("/");
  let best = null;
  for (const r of routes) {
    if (r.segments.length !== segs.length) continue;
    const ok = r.segments.every((t, i) =>
      t.startsWith("{") ? segs[i].length > 0 : t === segs[i]);
    if (ok && (!best || r.literal > best.literal)) best = r;
  }
  return best && best.template;
}

// ------------------------------------------------------------------ schemas
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema(spec, "openapi");
const pointer = (parts) =>
  "openapi#/" + parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const compiled = new Map();
function validatorAt(parts) {
  const ref = pointer(parts);
  if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
  return compiled.get(ref);
}

function mediaType(ct) {
  return (ct || "").split(";")[0].trim().toLowerCase();
}

// The problems of one recorded answer (empty when it matches).
function check(rec) {
  const template = routeOf(rec.path);
  const status = String(rec.status);
  const ctype = mediaType(rec.content_type);
  const problemOnly = () => {
    if (rec.status < 400) return [`${rec.status} on a path the API does not serve`];
    if (ctype !== "application/problem+json") return [`Content-Type ${ctype}, not a problem`];
    const v = validatorAt(["components", "schemas", "Problem"]);
    return v(rec.body) ? [] : v.errors.map((e) => `body${e.instancePath} ${e.message}`);
  };
  if (!template) return problemOnly();
  const op = spec.paths[template][rec.method.toLowerCase()];
  // 405, or 400 for a path refused before any route is looked at
  // (escaped slashes, dot segments: see the spec's info)
  if (!op) return rec.status === 405 || rec.status === 400 ? problemOnly()
                                                           : [`no ${rec.method} on ${template}`];
  const where = ["paths", template, rec.method.toLowerCase(), "responses"];
  let key = status in op.responses ? status
          : `${status[0]}XX` in op.responses ? `${status[0]}XX`
          : "default" in op.responses ? "default" : null;
  if (!key) return [`status ${status} is not documented`];
  let resp = op.responses[key];
  where.push(key);
  if (resp.$ref) { // a shared response under components/responses
    const name = resp.$ref.split("/").pop();
    resp = spec.components.responses[name];
    where.splice(0, where.length, "components", "responses", name);
  }
  const content = resp.content || {};
  if (Object.keys(content).length === 0)
    return rec.body === null || rec.body === "" ? [] : ["a body where none is documented"];
  const media = Object.keys(content).find((m) => m.toLowerCase() === ctype);
  if (!media) return [`Content-Type ${ctype || "(none)"} is not one of ${Object.keys(content).join(", ")}`];
  if (!content[media].schema) return [];
  const v = validatorAt([...where, "content", media, "schema"]);
  return v(rec.body) ? [] : v.errors.map((e) => `body${e.instancePath || ""} ${e.message}`);
}

// ------------------------------------------------------------------ answers
let lines;
try {
  lines = readFileSync(recordPath, "utf8").split("\n").filter((l) => l.trim());
} catch (e) {
  console.log(`FAIL: cannot read the recorded answers ${recordPath}: ${e.message}`);
  lines = [];
  failed++;
}
const mismatches = new Map(); // "METHOD template status: problem" -> {count, example}
let answers = 0;
for (const line of lines) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch (e) {
    mismatches.set(`unreadable record: ${e.message}`, { count: 1, example: line.slice(0, 200) });
    continue;
  }
  answers++;
  for (const p of check(rec)) {
    const k = `${rec.method} ${routeOf(rec.path) || rec.path} ${rec.status}: ${p}`;
    const m = mismatches.get(k) || { count: 0, example: JSON.stringify(rec.body).slice(0, 300) };
    m.count++;
    mismatches.set(k, m);
  }
}
if (answers === 0) {
  console.log("FAIL: no recorded answers (did the HTTP tests run with EF_HTTP_RECORD?)");
  failed++;
} else if (mismatches.size) {
  console.log(`FAIL: ${mismatches.size} kinds of answer do not match ${specPath}:`);
  for (const [k, m] of mismatches) console.log(`  ${k} (x${m.count})\n      e.g. ${m.example}`);
  failed++;
} else {
  console.log(`ok: all ${answers} recorded answers match ${specPath}`);
  passed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

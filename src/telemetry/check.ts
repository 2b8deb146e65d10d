/**
 * Stage 3: telemetry JSONL checked against contracts/telemetry/envelope.v1.yaml, the way vox's
 * trainers write it. Files are streamed in flat memory: a line is held only up to `maxLineBytes`;
 * a longer one is counted to its end without being kept and reported as a violation.
 */
import { join } from "node:path";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";
import { isUtf8 } from "node:buffer";
import { JsonNumber, JsonObject, JsonSyntaxError, parseJsonBytes, type JsonValue } from "../util/json-literal.js";
import { readBoundedLines } from "../util/lines.js";
import * as v from "valibot";
import { FileSummarySchema } from "../validate/schemas.js";

/** A JSON value's type as the envelope contract names it (an integer literal is "integer", also a "number"). */
type JsonType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

function jsonType(v: JsonValue): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof JsonObject) return "object";
  if (v instanceof JsonNumber) return v.integer ? "integer" : "number";
  return typeof v as "string" | "boolean";
}

function typeOk(v: JsonValue, allowed: readonly JsonType[]): boolean {
  const t = jsonType(v);
  return allowed.includes(t) || (t === "integer" && allowed.includes("number"));
}

/** A value as a violation message shows it (numbers as written, long strings cut). */
function show(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.raw;
  if (v instanceof JsonObject) return "an object";
  if (Array.isArray(v)) return "an array";
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '…"' : s;
}

interface KeySpec {
  types: JsonType[];
  /** A pinned value (e.g. telemetry_schema = 1). */
  equals?: number | string | boolean;
}

interface EnvelopeContract {
  path: string;
  keys: string[];
  tsPlausibleMin: number;
  tsPlausibleMax: number;
  known: Set<string>;
  /** Per event: payload keys whose absence is a warning. */
  warnUnlessPresent: Map<string, string[]>;
  /** Payload keys type-checked when present (in any event). */
  payloadKeys: Map<string, KeySpec>;
}

const TYPES = new Set<JsonType>(["string", "integer", "number", "boolean", "object", "array", "null"]);

function envelopePath(root = contentRoot()): string {
  return join(root, "contracts", "telemetry", "envelope.v1.yaml");
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function parseTypes(path: string, field: string, t: unknown): JsonType[] {
  const types = String(t)
    .split("|")
    .map((x) => x.trim()) as JsonType[];
  if (typeof t !== "string" || !types.every((x) => TYPES.has(x))) contractFieldError(path, field, `one of ${[...TYPES].join(", ")} (joined with |)`);
  return types;
}

function loadEnvelope(root = contentRoot()): EnvelopeContract {
  const path = envelopePath(root);
  const raw = loadYamlFile(path);
  if (!isRecord(raw) || !isRecord(raw.envelope) || !Array.isArray(raw.envelope.keys) || !raw.envelope.keys.every((k) => typeof k === "string")) {
    contractFieldError(path, "envelope.keys", "a list of key names");
  }
  const env = (raw as { envelope: Record<string, unknown> }).envelope;
  const ts = isRecord(env.ts_ms) ? env.ts_ms : {};
  if (typeof ts.plausible_min !== "number" || typeof ts.plausible_max !== "number")
    contractFieldError(path, "envelope.ts_ms.plausible_min/plausible_max", "integers");
  const events = (raw as Record<string, unknown>).events;
  if (!isRecord(events) || !Array.isArray(events.known) || !events.known.every((k) => typeof k === "string"))
    contractFieldError(path, "events.known", "a list of event names");
  const warn = new Map<string, string[]>();
  const wu = (events as Record<string, unknown>).warn_unless_present ?? {};
  if (!isRecord(wu)) contractFieldError(path, "events.warn_unless_present", "a map of event name to key list");
  for (const [ev, keys] of Object.entries(wu)) {
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string"))
      contractFieldError(path, `events.warn_unless_present.${ev}`, "a list of payload keys");
    warn.set(ev, keys as string[]);
  }
  const pk = (raw as Record<string, unknown>).payload_keys ?? {};
  if (!isRecord(pk)) contractFieldError(path, "payload_keys", "a map of payload key to type");
  const payloadKeys = new Map<string, KeySpec>();
  for (const [k, spec] of Object.entries(pk)) {
    if (isRecord(spec)) {
      const eq = spec.equals;
      if (eq !== undefined && !["number", "string", "boolean"].includes(typeof eq))
        contractFieldError(path, `payload_keys.${k}.equals`, "a number, string or boolean");
      payloadKeys.set(k, {
        types: parseTypes(path, `payload_keys.${k}.type`, spec.type),
        ...(eq !== undefined ? { equals: eq as number | string | boolean } : {}),
      });
    } else payloadKeys.set(k, { types: parseTypes(path, `payload_keys.${k}`, spec) });
  }
  return {
    path,
    keys: env.keys as string[],
    tsPlausibleMin: ts.plausible_min as number,
    tsPlausibleMax: ts.plausible_max as number,
    known: new Set((events as { known: string[] }).known),
    warnUnlessPresent: warn,
    payloadKeys,
  };
}

// ---------------------------------------------------------------------------------------------

export interface Finding {
  file: string;
  line: number;
  message: string;
}

type FileSummary = v.InferOutput<typeof FileSummarySchema>;

interface TelemetryReport {
  files: FileSummary[];
  /** Listed up to `limit` (each kind); the totals are in `totals`. */
  violations: Finding[];
  warnings: Finding[];
  /** Lines per event name: a null-prototype object, so any name (`constructor`, `__proto__`) counts as itself. */
  counts: Record<string, number>;
  totals: { lines: number; violations: number; warnings: number };
}

interface CheckOptions {
  /** How many findings of each kind are kept in the report (all are passed to `onFinding`). Default 10 000. */
  limit?: number;
  /** Longest line held in memory; a longer one is a violation. Default 16 MiB. */
  maxLineBytes?: number;
  onFinding?(kind: "violation" | "warning", f: Finding): void;
}

const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

function fileError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "cannot be read: no such file";
  if (err.code === "EISDIR") return "cannot be read: it is a directory";
  if (err.code === "EACCES" || err.code === "EPERM") return "cannot be read: permission denied";
  return `cannot be read: ${err.code ?? err.message ?? String(e)}`;
}

/** Checks one parsed line; calls `violation`/`warning` for what is wrong; returns the event name to count. */
function checkLine(contract: EnvelopeContract, v: JsonValue, violation: (m: string) => void, warning: (m: string) => void): string | null {
  if (!(v instanceof JsonObject)) {
    violation(`not a JSON object (${jsonType(v)})`);
    return null;
  }
  const o = v.map;
  for (const d of new Set(v.duplicates)) violation(`duplicate envelope key ${JSON.stringify(d)}`);
  const missing = contract.keys.filter((k) => !o.has(k));
  const extra = [...o.keys()].filter((k) => !contract.keys.includes(k));
  if (missing.length) violation(`missing envelope key(s): ${missing.join(", ")}`);
  if (extra.length) violation(`extra envelope key(s): ${extra.map((k) => JSON.stringify(k)).join(", ")} (a line has exactly ${contract.keys.join(", ")})`);
  let event: string | null = null;
  if (o.has("event")) {
    const ev = o.get("event")!;
    if (typeof ev !== "string" || ev === "") violation(`event must be a non-empty string, got ${typeof ev === "string" ? '""' : show(ev)}`);
    else event = ev;
  }
  if (o.has("ts_ms")) {
    const ts = o.get("ts_ms")!;
    if (!(ts instanceof JsonNumber) || !ts.integer) violation(`ts_ms must be an integer (Unix epoch milliseconds), got ${show(ts)}`);
    else if (ts.value < contract.tsPlausibleMin || ts.value > contract.tsPlausibleMax) {
      warning(`ts_ms ${ts.raw} is outside ${contract.tsPlausibleMin}..${contract.tsPlausibleMax} (seconds instead of milliseconds?)`);
    }
  }
  let payload: JsonObject | null = null;
  if (o.has("payload")) {
    const p = o.get("payload")!;
    if (!(p instanceof JsonObject)) violation(`payload must be an object, got ${show(p)}`);
    else payload = p;
  }
  if (event !== null && !contract.known.has(event)) warning(`unknown event ${JSON.stringify(event)} (known: ${[...contract.known].join(", ")})`);
  if (payload) {
    const where = event ?? "payload";
    for (const d of new Set(payload.duplicates)) warning(`${where}: duplicate payload key ${JSON.stringify(d)} (the last one counts)`);
    for (const [k, val] of payload.map) {
      const spec = contract.payloadKeys.get(k);
      if (!spec) continue;
      if (!typeOk(val, spec.types)) violation(`${where}: payload.${k} must be ${spec.types.join(" or ")}, got ${jsonType(val)} ${show(val)}`);
      else if (spec.equals !== undefined) {
        const actual = val instanceof JsonNumber ? val.value : val;
        if (actual !== spec.equals) violation(`${where}: payload.${k} must be ${JSON.stringify(spec.equals)}, got ${show(val)}`);
      }
    }
    if (event !== null) {
      const want = contract.warnUnlessPresent.get(event);
      const absent = want?.filter((k) => !payload!.map.has(k)) ?? [];
      if (absent.length) warning(`${event}: payload has no ${absent.join(", ")} (the viewer shows a blank)`);
    }
  }
  return event;
}

/** Nothing but white space (as String.prototype.trim sees it; a line starting with "{" is never blank). */
function isBlank(bytes: Buffer): boolean {
  return bytes.length === 0 || (bytes[0] !== 0x7b && !bytes.toString("utf8").trim());
}

/** Streams each file (flat memory, any size and line length) and checks every line against the envelope. */
export function checkTelemetry(files: string[], contract: EnvelopeContract = loadEnvelope(), options: CheckOptions | number = {}): TelemetryReport {
  const opts: CheckOptions = typeof options === "number" ? { limit: options } : options;
  const limit = opts.limit ?? 10_000;
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const counts = Object.create(null) as Record<string, number>;
  const report: TelemetryReport = { files: [], violations: [], warnings: [], counts, totals: { lines: 0, violations: 0, warnings: 0 } };
  for (const file of files) {
    const summary: FileSummary = { file, lines: 0, violations: 0, warnings: 0 };
    report.files.push(summary);
    const add = (kind: "violation" | "warning", line: number, message: string) => {
      const f = { file, line, message };
      if (kind === "violation") {
        summary.violations++;
        report.totals.violations++;
        if (report.violations.length < limit) report.violations.push(f);
      } else {
        summary.warnings++;
        report.totals.warnings++;
        if (report.warnings.length < limit) report.warnings.push(f);
      }
      opts.onFinding?.(kind, f);
    };
    try {
      for (const l of readBoundedLines(file, maxLine)) {
        summary.lines = l.no;
        report.totals.lines++;
        if (l.bytes === null) {
          add("violation", l.no, `line is ${l.length} bytes, longer than the ${maxLine} bytes a telemetry line may have; not parsed`);
          continue;
        }
        if (!isUtf8(l.bytes)) {
          add("violation", l.no, "not valid UTF-8");
          continue;
        }
        if (isBlank(l.bytes)) {
          add("warning", l.no, "empty line");
          continue;
        }
        let v: JsonValue;
        try {
          v = parseJsonBytes(l.bytes);
        } catch (e) {
          if (!(e instanceof JsonSyntaxError)) throw e;
          // The column in characters, as an editor shows it (the parser counts bytes).
          add("violation", l.no, `invalid JSON: ${e.message} at column ${l.bytes.toString("utf8", 0, e.pos).length + 1}`);
          continue;
        }
        const ev = checkLine(
          contract,
          v,
          (m) => add("violation", l.no, m),
          (m) => add("warning", l.no, m),
        );
        if (ev !== null) counts[ev] = (counts[ev] ?? 0) + 1;
      }
    } catch (e) {
      if (e instanceof RangeError || !(e as NodeJS.ErrnoException).code) throw e;
      summary.error = fileError(e);
      add("violation", 0, `${summary.error}; the other files were still checked`);
    }
  }
  return report;
}

import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { failed } from "../errors.js";
import { readLines } from "../backup/read.js";
import { contentRoot } from "../util/paths.js";
import { contractFieldError, loadYamlFile } from "../util/yaml.js";

export type JsonType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

export interface EnvelopeContract {
  path: string;
  keys: string[];
  tsMin: number;
  tsMax: number;
  events: Map<string, Map<string, JsonType[]>>;
}

const TYPES = new Set<JsonType>(["string", "integer", "number", "boolean", "object", "array", "null"]);

export function envelopePath(root = contentRoot()): string {
  return join(root, "contracts", "telemetry", "envelope.v1.yaml");
}

export function loadEnvelope(root = contentRoot()): EnvelopeContract {
  const path = envelopePath(root);
  const raw = loadYamlFile(path) as Record<string, any> | null;
  if (!raw?.envelope || !Array.isArray(raw.envelope.keys)) contractFieldError(path, "envelope.keys", "a list of key names");
  const ts = raw!.envelope.ts_ms ?? {};
  if (typeof ts.min !== "number" || typeof ts.max !== "number") contractFieldError(path, "envelope.ts_ms.min/max", "integers");
  const events = new Map<string, Map<string, JsonType[]>>();
  for (const [name, spec] of Object.entries((raw!.events ?? {}) as Record<string, Record<string, string>>)) {
    const keys = new Map<string, JsonType[]>();
    for (const [k, t] of Object.entries(spec ?? {})) {
      const types = String(t).split("|").map((x) => x.trim()) as JsonType[];
      if (!types.every((x) => TYPES.has(x))) contractFieldError(path, `events.${name}.${k}`, `one of ${[...TYPES].join(", ")} (joined with |)`);
      keys.set(k, types);
    }
    events.set(name, keys);
  }
  return { path, keys: raw!.envelope.keys as string[], tsMin: ts.min, tsMax: ts.max, events };
}

function jsonType(v: unknown): JsonType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v as JsonType;
}

function typeOk(v: unknown, allowed: JsonType[]): boolean {
  const t = jsonType(v);
  return allowed.includes(t) || (t === "integer" && allowed.includes("number"));
}

export interface Finding {
  file: string;
  line: number;
  message: string;
}

export interface TelemetryReport {
  files: { file: string; lines: number; violations: number; warnings: number }[];
  violations: Finding[];
  warnings: Finding[];
  counts: Record<string, number>;
}

/** Streams each file (constant memory, any size) and checks every line against the envelope. */
export function checkTelemetry(files: string[], contract: EnvelopeContract = loadEnvelope(), limit = 10_000): TelemetryReport {
  const report: TelemetryReport = { files: [], violations: [], warnings: [], counts: {} };
  let vCount = 0;
  for (const file of files) {
    if (!existsSync(file) || statSync(file).isDirectory()) {
      throw failed({ what: `The telemetry file ${file} ${existsSync(file) ? "is a directory" : "does not exist"}.`, untouched: "Nothing was written.", next: "Check the path." });
    }
    let lines = 0;
    let fv = 0;
    let fw = 0;
    const violation = (line: number, message: string) => {
      fv++;
      vCount++;
      if (report.violations.length < limit) report.violations.push({ file, line, message });
    };
    const warning = (line: number, message: string) => {
      fw++;
      if (report.warnings.length < limit) report.warnings.push({ file, line, message });
    };
    for (const l of readLines(file)) {
      lines = l.no;
      const text = l.bytes.toString("utf8");
      if (!text.trim()) {
        warning(l.no, "empty line");
        continue;
      }
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch (e) {
        violation(l.no, `invalid JSON (${(e as Error).message.replace(/ in JSON at position \d+.*$/, "")})`);
        continue;
      }
      if (!o || typeof o !== "object" || Array.isArray(o)) {
        violation(l.no, "not a JSON object");
        continue;
      }
      const obj = o as Record<string, unknown>;
      const missing = contract.keys.filter((k) => !(k in obj));
      const extra = Object.keys(obj).filter((k) => !contract.keys.includes(k));
      if (missing.length) violation(l.no, `missing envelope key(s): ${missing.join(", ")}`);
      if (extra.length) violation(l.no, `extra envelope key(s): ${extra.join(", ")}`);
      const ev = obj.event;
      if ("event" in obj && (typeof ev !== "string" || ev === "")) violation(l.no, "event must be a non-empty string");
      if ("ts_ms" in obj) {
        const ts = obj.ts_ms;
        if (typeof ts !== "number" || !Number.isInteger(ts) || /"ts_ms"\s*:\s*-?\d+\.\d/.test(text)) violation(l.no, `ts_ms must be an integer (Unix epoch milliseconds), got ${JSON.stringify(ts)}`);
        else if (ts < contract.tsMin || ts > contract.tsMax) violation(l.no, `ts_ms ${ts} is out of range (${contract.tsMin}..${contract.tsMax}; seconds instead of milliseconds?)`);
      }
      const payload = obj.payload;
      if ("payload" in obj && (payload === null || typeof payload !== "object" || Array.isArray(payload))) violation(l.no, "payload must be an object");
      if (typeof ev === "string" && ev) {
        report.counts[ev] = (report.counts[ev] ?? 0) + 1;
        const spec = contract.events.get(ev);
        if (!spec) warning(l.no, `unknown event "${ev}"`);
        else if (payload && typeof payload === "object" && !Array.isArray(payload)) {
          const p = payload as Record<string, unknown>;
          for (const [k, types] of spec) {
            if (!(k in p)) violation(l.no, `${ev}: missing payload key ${k}`);
            else if (!typeOk(p[k], types)) violation(l.no, `${ev}: payload.${k} must be ${types.join(" or ")}, got ${jsonType(p[k])}`);
          }
        }
      }
    }
    report.files.push({ file, lines, violations: fv, warnings: fw });
  }
  if (vCount > report.violations.length) report.warnings.push({ file: "", line: 0, message: `${vCount - report.violations.length} more violations not listed` });
  return report;
}

import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refused } from "../errors.js";
import type { TableInfo } from "../db/catalog.js";
import type { SqlValue } from "../db/value.js";
import { toolVersion } from "../util/paths.js";
import { affinityOf } from "./affinity.js";
import { encodeRow, FORMAT_NAME, FORMAT_VERSION, type BackupHeader, type BackupTable } from "./format.js";
import type { ImporterRule } from "./importers.js";
import { readLines } from "./read.js";

interface RefLine {
  table: string;
  columns: string[];
  row: Record<string, unknown>;
}

function parseRef(path: string, bytes: Buffer, no: number): RefLine {
  let o: RefLine;
  try {
    o = JSON.parse(bytes.toString("utf8")) as RefLine;
  } catch {
    throw refused({ what: `${path} line ${no} is not valid JSON.`, untouched: "Nothing was written.", next: "Use a verified backup from vox-cutover export-legacy." });
  }
  if (!o || typeof o.table !== "string" || !Array.isArray(o.columns) || typeof o.row !== "object") {
    throw refused({ what: `${path} line ${no} is not a {"columns","row","table"} object.`, untouched: "Nothing was written.", next: "Use a verified backup from vox-cutover export-legacy." });
  }
  return o;
}

/**
 * Converts a file of the reference runbook's `vox codex export-legacy` into this tool's format,
 * so it loads through the same verified path. Storage classes are a best guess (the reference
 * format lost them): JSON integers are INTEGER (REAL where the target column has REAL affinity),
 * other numbers REAL, and a "base64:…" string becomes a BLOB only where the target column has BLOB
 * affinity, TEXT elsewhere. No rowids are carried. Returns the path of a temporary file.
 */
export function convertReferenceBackup(path: string, baseline: TableInfo[], rules: Map<string, ImporterRule>): string {
  const tables: BackupTable[] = [];
  let cur: BackupTable | undefined;
  const seen = new Set<string>();
  for (const line of readLines(path)) {
    if (!line.bytes.length) continue;
    const o = parseRef(path, line.bytes, line.no);
    if (!cur || cur.name !== o.table) {
      if (seen.has(o.table)) throw refused({ what: `${path}: rows of table ${o.table} are not contiguous (line ${line.no}).`, untouched: "Nothing was written.", next: "Use a verified backup from vox-cutover export-legacy." });
      seen.add(o.table);
      const rule = rules.get(o.table);
      const target = baseline.find((t) => t.name === o.table) ?? (rule ? baseline.find((t) => t.name === rule.into) : undefined);
      const types = o.columns.map((c) => target?.columns.find((x) => x.name === (rule && target?.name === rule.into ? rule.columns[c] : c))?.type ?? "");
      cur = { name: o.table, sql: "", columns: o.columns, rowidColumn: null, rowidAlias: null, withoutRowid: false, primaryKey: [], types, rows: 0 };
      tables.push(cur);
    }
    cur.rows = Number(cur.rows) + 1;
  }
  const out = join(tmpdir(), `vox-cutover-reference-${process.pid}-${Date.now()}.jsonl`);
  const fd = openSync(out, "wx");
  try {
    const file = createHash("sha256");
    const write = (s: string) => {
      file.update(s);
      writeSync(fd, s);
    };
    const header: BackupHeader = {
      k: "header",
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      tool: `vox-cutover ${toolVersion()} (converted from an unverified reference export)`,
      createdAt: new Date().toISOString(),
      source: { path, sizeBytes: null, walBytes: null, changeCounter: null },
      chain: "legacy",
      maxVersion: null,
      baseline: { version: 0, digest: "" },
      tables,
    };
    write(JSON.stringify(header) + "\n");
    const summary: { name: string; rows: number; sha256: string }[] = [];
    let ti = -1;
    let th = createHash("sha256");
    let n = 0;
    const end = () => {
      if (ti < 0) return;
      const sha256 = th.digest("hex");
      summary.push({ name: tables[ti]!.name, rows: n, sha256 });
      write(JSON.stringify({ k: "end", name: tables[ti]!.name, rows: n, sha256 }) + "\n");
    };
    for (const line of readLines(path)) {
      if (!line.bytes.length) continue;
      const o = parseRef(path, line.bytes, line.no);
      if (ti < 0 || tables[ti]!.name !== o.table) {
        end();
        ti++;
        th = createHash("sha256");
        n = 0;
        write(JSON.stringify({ k: "table", name: o.table, columns: tables[ti]!.columns }) + "\n");
      }
      const t = tables[ti]!;
      const values: SqlValue[] = t.columns.map((c, i) => refValue(o.row[c], affinityOf(t.types[i] ?? "")));
      const l = encodeRow(values) + "\n";
      th.update(l);
      write(l);
      n++;
    }
    end();
    const fileSha256 = file.digest("hex");
    writeSync(fd, JSON.stringify({ k: "trailer", tables: summary, totalRows: summary.reduce((a, s) => a + s.rows, 0), fileSha256 }) + "\n");
  } finally {
    closeSync(fd);
  }
  return out;
}

function refValue(v: unknown, aff: ReturnType<typeof affinityOf>): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number") {
    if (Number.isInteger(v) && aff !== "REAL") return BigInt(v);
    return v;
  }
  if (typeof v === "string") {
    if (v.startsWith("base64:") && aff === "BLOB") {
      const b64 = v.slice(7);
      if (/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return new Uint8Array(Buffer.from(b64, "base64"));
    }
    return v;
  }
  return JSON.stringify(v);
}

import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomUUID } from "node:crypto";
import { failed, legacy, refused } from "../errors.js";
import { planDigest } from "../engine/plan-digest.js";
import { recordLedger } from "../engine/ledger.js";
import type { ColumnInfo } from "./catalog.js";
import type { BaselineContext, Diagnosis } from "./diagnose.js";
import { shellQuote } from "./diagnose.js";
import { writeTransactionInto } from "./files.js";
import { describeStatement, splitSql } from "./sqlsplit.js";
import { quoteIdent } from "./value.js";

export interface MigrationStep {
  id: string;
  kind: "read" | "write" | "destructive";
  description: string;
  /** The statements this step runs, in order. */
  sql: string[];
}

export interface MigrationPlan {
  chain: Diagnosis["chain"];
  fromVersion: bigint | null;
  toVersion: number;
  steps: MigrationStep[];
  /** Statements that cannot be folded (e.g. a NOT NULL column without a default). */
  blockers: string[];
  digest: string;
  needsBackup: boolean;
}

export function columnDefinition(c: ColumnInfo): string {
  let def = `${quoteIdent(c.name)}${c.type ? " " + c.type : ""}`;
  if (c.notnull) def += " NOT NULL";
  if (c.dflt !== null) def += ` DEFAULT ${/^[(']|^-?\d|^NULL$|^CURRENT_/i.test(c.dflt) ? c.dflt : `(${c.dflt})`}`;
  return def;
}

/** What `migrate` would do for this diagnosis; pure apart from reading the diagnosis. */
export function planMigration(d: Diagnosis, base: BaselineContext): MigrationPlan {
  const where = d.resolved.kind === "file" ? ` --db ${shellQuote(d.resolved.path!)}` : "";
  if (d.chain === "legacy") {
    throw legacy({
      what: `LegacySchemaChain: ${d.resolved.display} cannot be migrated in place (${d.classification.rule}).`,
      untouched: "Nothing was changed.",
      next: `Run Stage 1: vox-cutover cutover${where} (dry-run), rehearse it with vox-cutover rehearse${where}, then cutover --apply.`,
      details: { chain: d.chain },
    });
  }
  if (d.chain === "ahead") {
    throw legacy({
      what: `LegacySchemaChain: ${d.resolved.display} is on version ${d.classification.maxVersion}, above this tool's baseline ${base.manifest.baselineVersion}.`,
      untouched: "Nothing was changed.",
      next: "Upgrade vox-cutover to a release that knows this version; do not migrate it with this one.",
      details: { chain: d.chain },
    });
  }
  if (d.chain === "not-a-database") throw d.error!;
  const steps: MigrationStep[] = [];
  const blockers: string[] = [];
  const B = base.manifest.baselineVersion;
  const statements = splitSql(base.sql);
  const hasData = d.tables.length > 0;
  if (d.chain === "missing") {
    steps.push({ id: "create-file", kind: "write", description: `create ${d.resolved.display}${d.resolved.path && !existsSync(dirname(d.resolved.path)) ? " and its folder" : ""}`, sql: [] });
  }
  if (d.chain === "behind" || (d.chain === "empty" && hasData)) {
    steps.push({
      id: "backup",
      kind: "write",
      description: "export every row to a verified backup (backup.jsonl in the work dir: hashes re-read and compared with the database) before any change",
      sql: [],
    });
  }
  if (d.chain === "missing" || d.chain === "empty" || d.chain === "behind") {
    const alters: string[] = [];
    const present = new Map(d.missingColumns.map((m) => [m.table, m.columns]));
    for (const t of base.catalog) {
      for (const colName of present.get(t.name) ?? []) {
        const c = t.columns.find((x) => x.name === colName)!;
        if (c.pk > 0) blockers.push(`${t.name}.${c.name} is part of the primary key and cannot be added in place`);
        else if (c.notnull && c.dflt === null) blockers.push(`${t.name}.${c.name} is NOT NULL without a default and cannot be added in place`);
        else if (c.dflt !== null && /CURRENT_|\(/i.test(c.dflt)) blockers.push(`${t.name}.${c.name} has a non-constant default (${c.dflt}) and cannot be added in place`);
        else alters.push(`ALTER TABLE ${quoteIdent(t.name)} ADD COLUMN ${columnDefinition(c)}`);
      }
    }
    if (alters.length) steps.push({ id: "add-columns", kind: "write", description: `add ${alters.length} column(s) that newer baselines added, with their defaults`, sql: alters });
    // Columns first: baseline indexes may name columns that only newer baselines have.
    steps.push({ id: "baseline-ddl", kind: "write", description: `apply the idempotent baseline ${B} DDL (${statements.length} statements)`, sql: statements });
    if (d.chain === "behind") {
      const pre = d.classification.maxVersion!;
      for (const fs of base.manifest.foldSteps) {
        if (pre < BigInt(fs.below)) steps.push({ id: `fold:${fs.id}`, kind: "write", description: `version-gated (before ${fs.below}): ${fs.description}`, sql: [fs.sql.trim().replace(/;$/, "")] });
      }
    }
    steps.push({
      id: "record-version",
      kind: "write",
      description: `record schema_version ${B}`,
      sql: [`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${B}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`],
    });
  }
  const digest = planDigest({
    db: d.resolved.display,
    chain: d.chain,
    sizeBytes: d.sizeBytes,
    walBytes: d.walBytes,
    changeCounter: d.changeCounter,
    steps: steps.flatMap((s) => [s.id, ...s.sql]),
  });
  return {
    chain: d.chain,
    fromVersion: d.classification.maxVersion,
    toVersion: B,
    steps,
    blockers,
    digest,
    needsBackup: steps.some((s) => s.id === "backup"),
  };
}

export function planLines(plan: MigrationPlan): string[] {
  const lines: string[] = [];
  plan.steps.forEach((s, i) => {
    lines.push(`${i + 1}. [${s.kind}] ${s.id}: ${s.description}`);
    for (const q of s.sql) lines.push(`     ${s.id === "baseline-ddl" ? describeStatement(q) : q.replace(/\s+/g, " ")}`);
  });
  return lines;
}

export interface ApplyOptions {
  path: string;
  workDir: string;
  /** Writes and verifies the backup; called while the write lock is held, before any change. */
  backup?: () => Promise<{ path: string; sha256: string }>;
}

/** Runs the plan in one transaction; any failing statement rolls everything back and is reported. */
export async function applyMigration(plan: MigrationPlan, opts: ApplyOptions): Promise<{ backup?: { path: string; sha256: string }; runId: string }> {
  if (plan.blockers.length) {
    throw refused({
      what: `The database cannot be folded in place: ${plan.blockers.join("; ")}.`,
      untouched: "Nothing was changed.",
      next: "Use Stage 1 instead: vox-cutover cutover (export, new file, import).",
    });
  }
  if (!existsSync(dirname(opts.path))) mkdirSync(dirname(opts.path), { recursive: true });
  // A new database is built under a temporary name and renamed into place when complete.
  const runId = randomUUID();
  let backup: { path: string; sha256: string } | undefined;
  await writeTransactionInto({ path: opts.path, mode: plan.chain === "missing" ? "create" : "existing", tag: "creating" }, async (db) => {
    if (plan.needsBackup) {
      if (!opts.backup) throw new Error("internal: a backup is required before folding");
      backup = await opts.backup();
    }
    for (const step of plan.steps) {
      for (const stmt of step.sql) {
        try {
          db.exec(stmt);
        } catch (e) {
          throw failed({
            what: `Step ${step.id} failed at \`${describeStatement(stmt)}\`: ${e instanceof Error ? e.message : String(e)}.`,
            untouched: `The transaction was rolled back: the database is exactly as before${backup ? `, and the verified backup is at ${backup.path}` : ""}.`,
            next: "Fix the cause (or use Stage 1: vox-cutover cutover) and run migrate again.",
          });
        }
      }
    }
    recordLedger(db, { runId, command: "migrate", planDigest: plan.digest, backupSha256: backup?.sha256 ?? null, counts: { from: plan.fromVersion?.toString() ?? null, to: plan.toVersion, chain: plan.chain } });
  });
  return { backup, runId };
}

export function backupPathIn(workDir: string, backupOpt: unknown): string {
  return typeof backupOpt === "string" && backupOpt ? backupOpt : join(workDir, "backup.jsonl");
}

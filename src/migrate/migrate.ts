import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomUUID } from "node:crypto";
import { failed, legacy, refused } from "../errors.js";
import { planDigest } from "../db/plan-digest.js";
import { recordLedger } from "../db/ledger.js";
import { columnDef, defaultClause } from "../schema/ddl.js";
import type { BaselineContext, Diagnosis } from "../diagnose/diagnose.js";
import { structureLines } from "../diagnose/diagnose.js";
import { shellQuote } from "../util/shell.js";
import { readFacts, type SchemaFacts } from "../schema/facts.js";
import { compareFacts } from "../schema/compare.js";
import { writeTransactionInto } from "../db/files.js";
import { describeStatement, splitSql } from "../db/sqlsplit.js";
import { quoteIdent } from "../db/value.js";
import { allRows, type LibsqlDatabase } from "../db/local.js";

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

/**
 * What an in-place repair can add: the target's columns the file lacks (ALTER TABLE … ADD COLUMN
 * with type, NOT NULL and default). What ALTER cannot add, and definitions that differ, block the
 * in-place path: the cutover rebuilds such a file instead (Stage 1: export, new file, import).
 */
function repairColumns(d: Diagnosis, base: BaselineContext): { alters: string[]; blockers: string[] } {
  const alters: string[] = [];
  const blockers: string[] = [];
  if (!d.structure) return { alters, blockers };
  for (const diff of d.structure.diffs) {
    if (diff.missing) continue; // created by the baseline DDL
    const t = base.facts.tables[diff.table];
    if (!t) continue;
    for (const name of diff.missingColumns) {
      const c = t.columns.find((x) => x.name === name)!;
      if (c.pk > 0) blockers.push(`${diff.table}.${c.name} is part of the primary key and cannot be added in place`);
      else if (c.notnull && c.default === null) blockers.push(`${diff.table}.${c.name} is NOT NULL without a default and cannot be added in place`);
      else if (c.default !== null && !isConstantDefault(c.default))
        blockers.push(`${diff.table}.${c.name} has a non-constant default (${c.default}) and cannot be added in place`);
      else alters.push(`ALTER TABLE ${quoteIdent(diff.table)} ADD COLUMN ${columnDef(c)}`);
    }
    for (const x of diff.differentColumns) blockers.push(`${diff.table}.${x}`);
    for (const u of diff.missingUnique) blockers.push(`${diff.table} lacks the unique set (${u.join(", ")})`);
    for (const f of diff.missingForeignKeys) blockers.push(`${diff.table} lacks the foreign key ${f.from} → ${f.table}(${f.to})`);
    for (const sh of diff.shape) blockers.push(`${diff.table} ${sh}`);
    for (const i of diff.differentIndexes) blockers.push(`${diff.table}: index ${i} is defined differently`);
  }
  return { alters, blockers };
}

/** ALTER TABLE ADD COLUMN takes only constant defaults (no CURRENT_*, no expression). */
function isConstantDefault(d: string): boolean {
  return defaultClause(d) === d && !/^CURRENT_/i.test(d);
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
      what: `LegacySchemaChain: ${d.resolved.display} is on version ${d.classification.maxVersion}, above the target baseline ${base.manifest.baselineVersion} (${base.origin.label}): a newer vox wrote it.`,
      untouched: "Nothing was changed.",
      next: `Take the target from the vox that wrote it: vox-cutover migrate${where} --target-schema vox (or --target-schema FILE, a database freshly created by that vox).`,
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
    steps.push({
      id: "create-file",
      kind: "write",
      description: `create ${d.resolved.display}${d.resolved.path && !existsSync(dirname(d.resolved.path)) ? " and its folder" : ""}`,
      sql: [],
    });
  }
  // A current file with the target's structure has nothing to do; every other chain that reaches here is brought onto it.
  const repair = d.chain === "current" && d.structure !== null && !d.structure.equal;
  if (d.chain !== "current" || repair) {
    if (d.chain === "behind" || repair || (d.chain === "empty" && hasData)) {
      steps.push({
        id: "backup",
        kind: "write",
        description: "export every row to a verified backup (backup.jsonl in the work dir: hashes re-read and compared with the database) before any change",
        sql: [],
      });
      // Every change is a swap: the statements below run on a copy beside the file, never in it.
      steps.push({
        id: "copy",
        kind: "write",
        description:
          "copy the file beside it (VACUUM INTO from one read transaction; page size, auto-vacuum, encoding, journal mode, user_version and application_id kept) and check the copy equals the verified backup; every step below runs on the copy, in one transaction",
        sql: [],
      });
    }
    const { alters, blockers: b } = repairColumns(d, base);
    blockers.push(...b);
    if (alters.length)
      steps.push({
        id: "add-columns",
        kind: "write",
        description: `add ${alters.length} column(s) the target has and the file lacks, with their defaults (nothing is dropped)`,
        sql: alters,
      });
    // A target trigger stored with another text (an older generator's, or an operator's edit): dropped here so the
    // baseline DDL below creates it with the target's own text; the old text stays in the backup and the archive.
    const stale = d.structure?.differentTriggers ?? [];
    if (stale.length)
      steps.push({
        id: "replace-triggers",
        kind: "write",
        description: `replace ${stale.length} trigger(s) whose text is not the target's (${stale.join(", ")}) with the target's`,
        sql: stale.map((n) => `DROP TRIGGER IF EXISTS ${quoteIdent(n)}`),
      });
    // Columns first: the target's indexes may name columns that only newer baselines have.
    steps.push({
      id: "baseline-ddl",
      kind: "write",
      description: `apply the idempotent baseline ${B} DDL (${statements.length} statements: missing tables, indexes and FTS tables are created; existing ones are left as they are)`,
      sql: statements,
    });
    if (d.chain === "behind") {
      const pre = d.classification.maxVersion!;
      for (const fs of base.manifest.foldSteps) {
        if (pre < BigInt(fs.below))
          steps.push({
            id: `fold:${fs.id}`,
            kind: "write",
            description: `version-gated (before ${fs.below}): ${fs.description}`,
            sql: [fs.sql.trim().replace(/;$/, "")],
          });
      }
    }
    steps.push({
      id: "record-version",
      kind: "write",
      description: `record schema_version ${B}`,
      sql: [`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${B}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`],
    });
  }
  if (steps.some((s) => s.id === "copy")) {
    steps.push({
      id: "swap",
      kind: "destructive",
      description:
        "check the folded copy (integrity_check, structure equal to the target, every backed-up row and value kept); then, holding SQLite's write lock on the file, check it is unchanged since the backup, hard-link it into the work dir's archive and rename the copy over its name (a rollback renames the original back: vox-cutover cutover --rollback --apply)",
      sql: [],
    });
  }
  const digest = planDigest({
    db: d.resolved.display,
    chain: d.chain,
    sizeBytes: d.sizeBytes,
    walBytes: d.walBytes,
    changeCounter: d.changeCounter,
    ...(d.contentVersion ? { contentVersion: d.contentVersion } : {}),
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

interface ApplyOptions {
  path: string;
  workDir: string;
  /** Writes and verifies the backup; called while the write lock is held, before any change. */
  backup?: () => Promise<{ path: string; sha256: string }>;
  /** The target's structure: checked inside the transaction before it commits (nothing commits unless it matches). */
  targetFacts?: SchemaFacts;
}

/** A refusal (3) unless the file holds no table: the baseline is applied in place only where no row can be lost. */
function assertNoTables(db: LibsqlDatabase, path: string): void {
  const n = Number(allRows(db, "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")[0]?.n ?? 0);
  if (n === 0) return;
  throw refused({
    what: `${path} holds ${n} table(s) now: it was planned as a file without tables (the baseline is applied in place only where no row can be lost).`,
    untouched: "Nothing was changed.",
    next: "Look at the database again (vox-cutover diagnose), then run the dry-run and the apply again.",
  });
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
    // Planned for a file without a row to lose: so it must still be, under this transaction's lock (another file may have been put at the name, or tables made, since).
    if (!plan.needsBackup && plan.chain !== "missing") assertNoTables(db, opts.path);
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
    if (opts.targetFacts) {
      const after = compareFacts(readFacts(db), opts.targetFacts);
      if (!after.equal) {
        throw failed({
          what: `After the fold the structure still differs from the target: ${structureLines(after).slice(0, 5).join("; ")}.`,
          untouched: `The transaction was rolled back: the database is exactly as before${backup ? `, and the verified backup is at ${backup.path}` : ""}.`,
          next: "Something in the file stands in the way (e.g. a view or index named like a target table); the cutover (Stage 1: vox-cutover cutover) rebuilds the file instead.",
        });
      }
    }
    recordLedger(db, {
      runId,
      command: "migrate",
      planDigest: plan.digest,
      backupSha256: backup?.sha256 ?? null,
      counts: { from: plan.fromVersion?.toString() ?? null, to: plan.toVersion, chain: plan.chain },
    });
  });
  return { backup, runId };
}

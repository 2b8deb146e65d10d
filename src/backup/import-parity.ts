/** The import's checks of the new file. Parity: every backed-up row is in the new file or in legacy_quarantine, a same-shape table by its content hash. */
import { formatCount } from "../util/count.js";
import { failed } from "../errors.js";
import { tablesWithForeignKeys, type TableInfo } from "../db/catalog.js";
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { integrityParts, pragmaRows, runIntegrityPart, type IntegrityPart } from "../db/integrity.js";
import { quoteIdent } from "../db/value.js";
import type { Plan } from "./import-plan.js";
import { backupTable, hashTable } from "./tables.js";

/** Throws (the import rolls back) on any difference; returns the plans per target table. */
export function checkParity(
  db: LibsqlDatabase,
  plans: Map<string, Plan>,
  catalog: TableInfo[],
  /** An append-only table's rows before the load (not cleared): counted with the loaded ones. */
  held: ReadonlyMap<string, number> = new Map(),
): Map<string, Plan[]> {
  for (const p of plans.values()) {
    if (p.report.loaded + p.report.quarantined + p.report.present !== p.report.rows) {
      throw failed({
        what: `Parity failed for ${p.bt.name}: ${formatCount(p.report.rows)} rows in the backup, ${formatCount(p.report.loaded)} loaded, ${formatCount(p.report.quarantined)} quarantined${p.report.present ? `, ${formatCount(p.report.present)} held already` : ""}.`,
        untouched: "The import was rolled back.",
        next: "Report this with the backup file.",
      });
    }
  }
  const byTarget = new Map<string, Plan[]>();
  for (const p of plans.values()) if (p.target) byTarget.set(p.target.name, [...(byTarget.get(p.target.name) ?? []), p]);
  for (const [name, ps] of byTarget) {
    if (name === "schema_version" || name === "legacy_quarantine") continue;
    const target = catalog.find((t) => t.name === name)!;
    const expectLoaded = ps.reduce((n, p) => n + p.report.loaded, 0);
    const before = held.get(name) ?? 0;
    // The rows expected pick readRows' statement only (every row is read and counted).
    const tb = backupTable(target, BigInt(expectLoaded));
    if (ps.length === 1 && ps[0]!.native) continue; // proven by its hash right after its load
    if (ps.length === 1 && ps[0]!.sameShape && before === 0) {
      const h = hashTable(db, tb);
      const want = ps[0]!.hash!.digest();
      if (h.rows !== expectLoaded || h.sha256 !== want) {
        throw failed({
          what: `Parity failed for ${name}: the new file's rows (${h.rows}, ${h.sha256}) differ from the loaded backup rows (${expectLoaded}, ${want}).`,
          untouched: "The import was rolled back.",
          next: "Report this with the backup file.",
        });
      }
    } else {
      const n = Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(name)}`)[0]!.n);
      if (n !== before + expectLoaded)
        throw failed({
          what: `Parity failed for ${name}: ${n} rows in the new file, ${expectLoaded} loaded${before ? ` beside the ${before} it held` : ""}.`,
          untouched: "The import was rolled back.",
          next: "Report this with the backup file.",
        });
    }
  }
  return byTarget;
}

/**
 * One part of the new file's checks, run on any connection that reads the committed file
 * (`runCheck`): a table's `foreign_key_check`; the `integrity_check` of the whole file; or, for the
 * whole file's check made in parts on two connections, one of its parts (db/integrity.ts integrityParts).
 */
export type CheckTask = { fk: string } | { integrity: true } | { part: IntegrityPart };
/** A part's answer: the orphan rows a foreign_key_check found, why it could not check, or integrity_check's messages. */
export type CheckResult = { orphans: number } | { uncheckable: string } | { messages: string[] };

export function runCheck(db: LibsqlDatabase, task: CheckTask): CheckResult {
  if ("integrity" in task) return { messages: pragmaRows(db, "PRAGMA main.integrity_check") };
  if ("part" in task) return { messages: runIntegrityPart(db, task.part) }; // its problems only
  try {
    // Every row foreign_key_check(T) returns is an orphan of T: counted by SQLite (millions of orphans are not held).
    return { orphans: Number(allRows(db, "SELECT count(*) AS n FROM pragma_foreign_key_check(?, 'main')", [task.fk])[0]!.n) };
  } catch (e) {
    return { uncheckable: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Runs the checks' parts: on this connection, or, given `beside`, on this connection and a second
 * one together (the file committed and written by nobody meanwhile); the answers are the same.
 */
export type CheckRunner = ((own: CheckTask[], shared: CheckTask[]) => { own: CheckResult[]; shared: CheckResult[] }) & {
  /** How many connections run the parts: with two, the integrity_check is shared in parts too. */
  readonly connections: 1 | 2;
};

/**
 * The checks on `db` alone with the rows committed first (a private new file: nobody else writes it),
 * in a read transaction of the committed file, then `db`'s write transaction again: what they check
 * is the file as it stays, so its sha256 can be taken beside them (the dry-run's kept trial: engine/trial.ts).
 */
export function committedChecks(db: LibsqlDatabase): CheckRunner {
  db.exec("COMMIT");
  const run = (own: CheckTask[], shared: CheckTask[]) => {
    db.exec("BEGIN");
    try {
      return { own: own.map((t) => runCheck(db, t)), shared: shared.map((t) => runCheck(db, t)) };
    } finally {
      if (db.inTransaction) db.exec("COMMIT"); // read only: nothing to write (a check that failed may have ended it)
      db.exec("BEGIN IMMEDIATE");
    }
  };
  return Object.assign(run, { connections: 1 as const });
}

/**
 * Foreign keys (table by table) and integrity of the new file; throws (the import rolls back) unless
 * integrity_check says ok. Given a `beside` of two connections, the integrity_check's parts
 * (db/integrity.ts integrityParts, by the rows loaded into each table: `byTarget`) and the foreign
 * keys are shared between the two connections (a 1 GB file's check: ~1.15 s instead of ~1.7).
 */
export function checkNewFile(
  db: LibsqlDatabase,
  catalog: TableInfo[],
  beside?: CheckRunner,
  byTarget: ReadonlyMap<string, Plan[]> = new Map(),
): { foreignKeyViolations: { table: string; count: number }[]; foreignKeyUncheckable: { table: string; error: string }[]; integrity: string } {
  // Table by table (those declaring a foreign key): a key SQLite cannot check (vox 66's package_deps names
  // a parent column that is not unique: "foreign key mismatch") is reported, the other tables still checked.
  const keyed = tablesWithForeignKeys(db) ?? new Set(catalog.map((t) => t.name));
  const fkTables = catalog.filter((x) => !x.virtual && keyed.has(x.name)).map((t) => t.name);
  const fks: CheckTask[] = fkTables.map((fk) => ({ fk }));
  // On one connection: integrity_check (the longest part), the foreign keys after it; on two, all parts shared.
  const rows = new Map([...byTarget].map(([name, ps]) => [name, ps.reduce((n, p) => n + p.report.loaded, 0)]));
  const two = beside?.connections === 2;
  const integrityTasks: CheckTask[] = two ? integrityParts(db, (t) => rows.get(t) ?? 0).map((part) => ({ part })) : [{ integrity: true }];
  const own: CheckTask[] = two ? [] : integrityTasks;
  const shared: CheckTask[] = two ? [...integrityTasks, ...fks] : fks;
  const done = beside ? beside(own, shared) : { own: own.map((t) => runCheck(db, t)), shared: shared.map((t) => runCheck(db, t)) };
  const fkDone = done.shared.slice(shared.length - fks.length);
  const integrityDone = two ? done.shared.slice(0, integrityTasks.length) : done.own;
  const foreignKeyViolations: { table: string; count: number }[] = [];
  const foreignKeyUncheckable: { table: string; error: string }[] = [];
  fkDone.forEach((r, k) => {
    if ("orphans" in r && r.orphans) foreignKeyViolations.push({ table: fkTables[k]!, count: r.orphans });
    if ("uncheckable" in r) foreignKeyUncheckable.push({ table: fkTables[k]!, error: r.uncheckable });
  });
  // One integrity_check says "ok" or its problems; each of its parts only its problems ([] when it says ok).
  const answered = integrityDone.length === integrityTasks.length && integrityDone.every((r) => "messages" in r);
  const problems = integrityDone.flatMap((r) => ("messages" in r ? r.messages : [])).filter((m) => m !== "ok");
  const integrity = !answered ? "no answer from every part" : problems.length ? problems.join("; ") : "ok";
  if (integrity !== "ok") {
    throw failed({
      what: `integrity_check of the imported file says: ${integrity.slice(0, 300)}.`,
      untouched: "The import was rolled back.",
      next: "Report this with the backup file.",
    });
  }
  return { foreignKeyViolations, foreignKeyUncheckable, integrity };
}

/**
 * The operator's own indexes, triggers and views: what a file holds besides its tables' rows.
 * The export lists them (the backup header's `objects`); the import carries each one that is not
 * the target's own into the new file when it still compiles against it (same name, same SQL,
 * created after the rows are loaded so a trigger never fires during the import), and names every
 * other one with its SQL and the reason. The original file keeps them all (it is archived).
 */
import Database from "libsql";
import { allRows, type LibsqlDatabase } from "./local.js";
import { quoteIdent } from "./value.js";
import { splitSql } from "./sqlsplit.js";
import { sqlTokens } from "./sqltokens.js";

export interface FileObject {
  type: "index" | "trigger" | "view";
  name: string;
  /** The table (or view) it belongs to. */
  table: string;
  sql: string;
}

export interface ObjectsCarried {
  carried: FileObject[];
  notCarried: (FileObject & { reason: string })[];
}

const ORDER = { index: 0, view: 1, trigger: 2 } as const;

/** Every index, trigger and view with SQL of its own (not the automatic indexes of UNIQUE/PRIMARY KEY), in creation order. */
export function listObjects(db: LibsqlDatabase): FileObject[] {
  return allRows(
    db,
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger', 'view') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
  ).map((r) => ({
    type: String(r.type) as FileObject["type"],
    name: String(r.name),
    table: String(r.tbl_name),
    sql: String(r.sql),
  }));
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Statements that make SQLite compile a table's triggers (prepared, never run). */
function firingStatements(db: LibsqlDatabase, table: string): string[] {
  const cols = allRows(db, `SELECT name FROM pragma_table_info(?)`, [table]).map((r) => quoteIdent(String(r.name)));
  const t = quoteIdent(table);
  return [`INSERT INTO ${t} DEFAULT VALUES`, ...(cols.length ? [`UPDATE ${t} SET ${cols.map((c) => `${c} = ${c}`).join(", ")}`] : []), `DELETE FROM ${t}`];
}

function prepareErrors(db: LibsqlDatabase, sqls: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of sqls) {
    try {
      db.prepare(s);
    } catch (e) {
      out.set(s, messageOf(e));
    }
  }
  return out;
}

/**
 * An object's SQL comes from a backup's header (input: anyone who can write the file can recompute its
 * hashes): it must be exactly one CREATE statement of the object's own kind, and it is run as one
 * prepared statement (a prepared statement is one statement: whatever follows the first is never run).
 * Null when it is; else why not.
 */
function notOneCreate(o: FileObject): string | null {
  const statements = splitSql(o.sql);
  if (statements.length !== 1) return `its SQL is ${statements.length} statements, not one CREATE ${o.type.toUpperCase()}`;
  const words = sqlTokens(statements[0]!)
    .slice(0, 3)
    .map((t) => t.upper);
  const kind = words[0] !== "CREATE" ? null : words[1] === "UNIQUE" ? words[2] : words[1];
  return kind === o.type.toUpperCase() ? null : `its SQL is not a CREATE ${o.type.toUpperCase()} statement`;
}

/** Runs an object's CREATE statement (checked by notOneCreate) and makes sure it made that object. */
function createObject(db: LibsqlDatabase, o: FileObject): void {
  db.prepare(o.sql).run();
  if (!allRows(db, "SELECT 1 FROM sqlite_master WHERE type = ? AND name = ? COLLATE NOCASE", [o.type, o.name]).length)
    throw new Error(`its SQL does not create the ${o.type} ${o.name}`);
}

/**
 * Creates, in `db` (inside its open transaction), each object the target does not define itself.
 * One that SQLite refuses, or that does not compile against the new file (a view's query, a
 * trigger's body), is left out and named with the reason.
 */
export function carryObjects(db: LibsqlDatabase, objects: readonly FileObject[]): ObjectsCarried {
  const own = new Set(allRows(db, "SELECT name FROM sqlite_master").map((r) => String(r.name).toLowerCase()));
  const out: ObjectsCarried = { carried: [], notCarried: [] };
  const sorted = [...objects].sort((a, b) => ORDER[a.type] - ORDER[b.type]);
  for (const o of sorted) {
    if (own.has(o.name.toLowerCase())) continue; // the target's own object (vox's, perhaps an older definition): the target's is kept
    db.exec("SAVEPOINT vox_cutover_object");
    let reason: string | null = notOneCreate(o);
    if (reason === null)
      try {
        createObject(db, o);
        if (o.type === "view") db.prepare(`SELECT * FROM ${quoteIdent(o.name)} LIMIT 0`);
        if (o.type === "trigger") {
          const fire = firingStatements(db, o.table);
          const withIt = prepareErrors(db, fire);
          if (withIt.size) {
            db.exec("ROLLBACK TO vox_cutover_object");
            const without = prepareErrors(db, [...withIt.keys()]);
            const caused = [...withIt].find(([s]) => !without.has(s));
            if (caused) reason = `its body does not compile against the new file: ${caused[1]}`;
            else createObject(db, o); // the table itself cannot take those statements; the trigger is not the cause
          }
        }
      } catch (e) {
        reason = messageOf(e);
      }
    if (reason !== null) {
      db.exec("ROLLBACK TO vox_cutover_object");
      out.notCarried.push({ ...o, reason });
    } else out.carried.push(o);
    db.exec("RELEASE vox_cutover_object");
  }
  return out;
}

/**
 * What a rebuild would do with a file's own objects, without its rows: tried against an empty
 * in-memory database on the target's DDL (the same tables and columns the new file has; a UNIQUE
 * index that the rows would break is only found by the trial import).
 */
export function predictObjects(targetSql: string, objects: readonly FileObject[]): ObjectsCarried {
  if (objects.length === 0) return { carried: [], notCarried: [] }; // nothing to try: no target to build
  const mem = emptyTarget(targetSql);
  mem.exec("BEGIN");
  try {
    return carryObjects(mem, objects);
  } finally {
    // Every try is undone: the next prediction starts from the empty target again.
    if (mem.inTransaction) mem.exec("ROLLBACK");
  }
}

/**
 * The empty in-memory target of each target SQL, built once per process (a run diagnoses up to three
 * times, and the import reads the baseline's seed rows from it): callers leave it as they found it.
 */
const targets = new Map<string, LibsqlDatabase>();

export function emptyTarget(sql: string): LibsqlDatabase {
  let db = targets.get(sql);
  if (!db) {
    const mem = new Database(":memory:");
    try {
      mem.exec(sql);
    } catch (e) {
      mem.close();
      throw e;
    }
    targets.set(sql, (db = mem));
  }
  return db;
}

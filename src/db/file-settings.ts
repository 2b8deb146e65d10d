/**
 * The file's own settings, which are not rows: page size, auto-vacuum, text encoding, journal
 * mode, `user_version` and `application_id`. Every route that makes a new file (the rebuild's
 * import, a copy-and-swap fold or repair) reads them from the old file and gives the new one the
 * same, so the swap changes nothing the operator chose.
 *
 * Order matters: page size, auto-vacuum and encoding only take effect on an empty file (before its
 * first table); `user_version` and `application_id` may be written any time; WAL mode is set last,
 * once the file is complete (a private file is built without a journal).
 */
import * as v from "valibot";
import { allRows, type LibsqlDatabase } from "./local.js";
import { AUTO_VACUUM, ENCODINGS, FileSettingsSchema } from "../validate/schemas.js";

export type FileSettings = v.InferOutput<typeof FileSettingsSchema>;

function pragma(db: LibsqlDatabase, name: string): unknown {
  const r = allRows(db, `PRAGMA ${name}`)[0];
  return r ? Object.values(r)[0] : null;
}

/** The settings of an open database (read-only connections and snapshots included). */
export function readFileSettings(db: LibsqlDatabase): FileSettings {
  const av = Number(pragma(db, "auto_vacuum") ?? 0);
  const enc = String(pragma(db, "encoding") ?? "UTF-8");
  return {
    pageSize: Number(pragma(db, "page_size")),
    autoVacuum: AUTO_VACUUM[av] ?? "none",
    encoding: (ENCODINGS as readonly string[]).includes(enc) ? (enc as FileSettings["encoding"]) : "UTF-8",
    journalMode: String(pragma(db, "journal_mode") ?? "delete").toLowerCase(),
    userVersion: Number(pragma(db, "user_version") ?? 0),
    applicationId: Number(pragma(db, "application_id") ?? 0),
  };
}

/** The settings as carried in a backup header (absent or malformed in an old backup: none). */
export function parseFileSettings(x: unknown): FileSettings | null {
  const r = v.safeParse(FileSettingsSchema, x);
  return r.success ? r.output : null;
}

/**
 * Gives a new, empty database the settings that must precede its first table (encoding first —
 * the first read of the schema fixes it —, then page size and auto-vacuum). Call right after
 * opening it, before anything else. SQLite ignores them silently on a file that already holds
 * something: they are read back, and a difference is an error.
 */
export function applyLayoutSettings(db: LibsqlDatabase, s: FileSettings): void {
  db.exec(`PRAGMA encoding = '${s.encoding}'`);
  db.exec(`PRAGMA page_size = ${s.pageSize}`);
  db.exec(`PRAGMA auto_vacuum = ${AUTO_VACUUM.indexOf(s.autoVacuum)}`);
  const got = readFileSettings(db);
  if (got.encoding !== s.encoding || got.autoVacuum !== s.autoVacuum) {
    throw new Error(
      `the new file did not take the original's settings (encoding ${got.encoding}, auto_vacuum ${got.autoVacuum}; wanted ${s.encoding}, ${s.autoVacuum})`,
    );
  }
}

/**
 * `user_version` and `application_id` (any time, inside the build's transaction is fine), each written
 * only where it differs: writing the same value rewrites the header page all the same (a new file's
 * import sets them before its checks, so that nothing writes the file after them: backup/import.ts).
 */
export function applyHeaderSettings(db: LibsqlDatabase, s: FileSettings): void {
  for (const [pragma, value] of [
    ["user_version", s.userVersion | 0],
    ["application_id", s.applicationId | 0],
  ] as const)
    if (Number(allRows(db, `PRAGMA ${pragma}`)[0]![pragma]) !== value) db.exec(`PRAGMA ${pragma} = ${value}`);
}

/** The journal mode the finished file is left in (outside a transaction, last). */
export function finalJournalMode(s: FileSettings | null): "wal" | "delete" {
  return s?.journalMode === "wal" ? "wal" : "delete";
}

/** What differs between two files' settings, in words (empty: the same). */
export function settingsDifferences(want: FileSettings, got: FileSettings): string[] {
  const out: string[] = [];
  for (const k of Object.keys(want) as (keyof FileSettings)[]) {
    const a = k === "journalMode" ? finalJournalMode(want) : want[k];
    const b = k === "journalMode" ? finalJournalMode(got) : got[k];
    if (a !== b) out.push(`${k} ${String(b)} (the original has ${String(a)})`);
  }
  return out;
}

import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildCorpusFile, fileSettingsOf } from "../fixtures/corpus.js";
import { cli, ROOT, sha256, sqlite, tmp } from "../helpers.js";
import type * as ExportModule from "../../src/backup/export.js";
import type * as ImportModule from "../../src/backup/import.js";
import { loadImporters } from "../../src/backup/importers.js";
import { baselineSql, loadManifest } from "../../src/schema/manifest.js";

// The built modules: the export's writer runs in a worker thread loaded from dist/.
const { exportBackup } = (await import(join(ROOT, "dist/src/backup/export.js"))) as typeof ExportModule;
const { importBackup } = (await import(join(ROOT, "dist/src/backup/import.js"))) as typeof ImportModule;

const SETTINGS = { pageSize: 65536, autoVacuum: "full", encoding: "UTF-8", userVersion: 7, applicationId: 0x766f7821, wal: true } as const;
/** What Python's sqlite3 reports for those settings. */
const want = (encoding: string) => ({ page_size: 65536, auto_vacuum: 1, encoding, journal_mode: "wal", user_version: 7, application_id: 0x766f7821 });

/** Every TEXT value of a table as its stored bytes (hex), read by the sqlite3 CLI. */
function textBytes(db: string, table: string, column: string): string {
  return sqlite(
    db,
    `SELECT group_concat(hex(CAST("${column}" AS BLOB)), ',') FROM (SELECT "${column}" FROM "${table}" WHERE typeof("${column}") = 'text' ORDER BY rowid)`,
  );
}

describe("the file's settings", () => {
  it.each(["UTF-8", "UTF-16le"] as const)(
    "a rebuilt %s file keeps page size, auto-vacuum, encoding, WAL, user_version and application_id",
    async (encoding) => {
      const dir = tmp();
      const db = join(dir, "vox.db");
      buildCorpusFile("vox66-adhoc", db, { seed: 3, rows: 4, settings: { ...SETTINGS, encoding } });
      expect(fileSettingsOf(db)).toEqual(want(encoding));
      // A text that starts with U+FEFF and overflows its 64 KiB page: SQLite 3.45 (libsql's) hands a
      // UTF-16 one over without that character; the cutover keeps it (read from the pages).
      execaSync("python3", [
        "-c",
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE knowledge_nodes SET content = ? WHERE rowid = (SELECT min(rowid) FROM knowledge_nodes)', ('\\ufeff' + 'bom-led ' * 9000,)); c.commit()",
        db,
      ]);
      expect(sqlite(db, "SELECT count(*) FROM knowledge_nodes WHERE hex(substr(content, 1, 1)) IN ('FFFE', 'EFBBBF')")).toBe("1");
      const dry = await cli(["cutover", "--db", db, "--json"]);
      expect(dry.exitCode, dry.stderr).toBe(0);
      const app = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
      expect(app.exitCode, app.stderr).toBe(0);
      expect(app.json.steps.some((s: { id: string }) => s.id === "build-import")).toBe(true);
      // Nothing of the run is left beside the database: the empty -wal and the -shm of the new file that
      // its checks' read-only look made went before the rename (src/db/files.ts settleReadersSideFiles).
      expect(readdirSync(dir).filter((f) => !f.startsWith("vox-cutover-runs"))).toEqual(["vox.db"]);
      const archive = app.json.archive.path as string;
      // Checked by the independent reader: Python's sqlite3 and the sqlite3 CLI.
      expect(fileSettingsOf(db)).toEqual(want(encoding));
      expect(
        sqlite(db, "PRAGMA page_size; PRAGMA auto_vacuum; PRAGMA encoding; PRAGMA journal_mode; PRAGMA user_version; PRAGMA application_id").split("\n"),
      ).toEqual(["65536", "1", encoding, "wal", "7", String(0x766f7821)]);
      expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
      // The text is stored in the same encoding with the same bytes as in the original.
      for (const [t, c] of [
        ["users", "display_name"],
        ["knowledge_nodes", "content"],
        ["names", "name"],
      ]) {
        expect(textBytes(db, t!, c!), `${t}.${c}`).toBe(textBytes(archive, t!, c!));
      }
      expect(sqlite(db, "SELECT count(*) FROM knowledge_nodes WHERE hex(substr(content, 1, 1)) IN ('FFFE', 'EFBBBF') AND length(content) = 72001")).toBe("1");
    },
    120_000,
  );

  it("an import into a new file takes the settings the backup recorded; a backup without them (older tool) gives SQLite's defaults", async () => {
    const dir = tmp();
    const db = join(dir, "src.db");
    buildCorpusFile("vox42", db, {
      seed: 4,
      rows: 3,
      settings: { pageSize: 8192, autoVacuum: "incremental", encoding: "UTF-16be", userVersion: -3, applicationId: 42 },
    });
    const { manifest, digest } = { manifest: loadManifest(), digest: "x" };
    const backup = join(dir, "b.jsonl");
    const exp = await exportBackup({ dbPath: db, outPath: backup, chain: "legacy", maxVersion: 42, baseline: { version: manifest.baselineVersion, digest } });
    expect(exp.header.settings).toEqual({
      pageSize: 8192,
      autoVacuum: "incremental",
      encoding: "UTF-16be",
      journalMode: "delete",
      userVersion: -3,
      applicationId: 42,
    });
    const opts = {
      backupPath: backup,
      baselineSql: baselineSql(manifest.fragments),
      baselineVersion: manifest.baselineVersion,
      history: [],
      rules: loadImporters(),
      into: "target" as const,
    };
    const out = join(dir, "new.db");
    await importBackup({ ...opts, targetPath: out });
    expect(fileSettingsOf(out)).toEqual({
      page_size: 8192,
      auto_vacuum: 2,
      encoding: "UTF-16be",
      journal_mode: "delete",
      user_version: -3,
      application_id: 42,
    });
    // An older backup: the same file without the header's settings (its hash recomputed as that tool wrote it).
    const old = join(dir, "old.jsonl");
    execaSync("python3", ["-c", OLD_BACKUP, backup, old]);
    const before = sha256(old);
    const plain = join(dir, "plain.db");
    await importBackup({ ...opts, backupPath: old, targetPath: plain });
    expect(sha256(old)).toBe(before);
    expect(fileSettingsOf(plain)).toMatchObject({ page_size: 4096, auto_vacuum: 0, encoding: "UTF-8", user_version: 0, application_id: 0 });
    expect(sqlite(plain, "SELECT count(*) FROM users")).toBe(sqlite(out, "SELECT count(*) FROM users"));
  }, 120_000);
});

/** Rewrites a backup as the tool before file settings wrote it: no "settings" in the header, whole-file hash redone. */
const OLD_BACKUP = `
import hashlib, json, sys
lines = open(sys.argv[1], "rb").read().split(b"\\n")[:-1]
h = json.loads(lines[0]); del h["settings"]
lines[0] = json.dumps(h, ensure_ascii=False, separators=(",", ":")).encode()
f = hashlib.sha256()
for l in lines[:-1]: f.update(l + b"\\n")
t = json.loads(lines[-1]); t["fileSha256"] = f.hexdigest()
lines[-1] = json.dumps(t, separators=(",", ":")).encode()
open(sys.argv[2], "wb").write(b"\\n".join(lines) + b"\\n")
`;

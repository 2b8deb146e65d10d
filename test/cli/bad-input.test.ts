import { describe, expect, it } from "vitest";
import { cpSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { cli, makeBaselineDb, ROOT, snapshotDir, sqlite, tmp } from "../helpers.js";

/** A copy of schema/ and contracts/ to break on purpose (VOX_CUTOVER_ROOT points the tool at it). */
function contentCopy(): string {
  const d = tmp();
  cpSync(join(ROOT, "schema"), join(d, "schema"), { recursive: true });
  cpSync(join(ROOT, "contracts"), join(d, "contracts"), { recursive: true });
  cpSync(join(ROOT, "package.json"), join(d, "package.json"));
  return d;
}

describe("bad input", () => {
  it("unknown flag: exit 2, one clear line, nothing touched", async () => {
    const r = await cli(["diagnose", "--frobnicate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
    expect(r.stderr).toMatch(/Nothing was read or changed/);
  });
  it("unknown command: exit 2", async () => {
    expect((await cli(["frobnicate"])).exitCode).toBe(2);
  });
  it("no command without a TTY: usage on stderr, exit 2, at once", async () => {
    const r = await cli([]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Usage: vox-cutover/);
    expect(r.stdout).toBe("");
  });
  it("--help and --version exit 0, per command too", async () => {
    expect((await cli(["--help"])).exitCode).toBe(0);
    expect((await cli(["--version"])).stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const h = await cli(["migrate", "--help"]);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/--apply/);
  });

  it("cutover --telemetry naming a file that is not there, or a folder: exit 2 before anything runs (never counted as a violation after the swap)", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    writeFileSync(join(dir, "telemetry.jsonl"), "");
    const before = snapshotDir(dir);
    for (const [bad, why] of [
      [join(dir, "telemetry.jsnol"), "does not exist"],
      [dir, "is a folder, not a file"],
    ] as const) {
      for (const mode of [[], ["--apply"]]) {
        const r = await cli(["cutover", "--db", db, ...mode, "--telemetry", join(dir, "telemetry.jsonl"), bad]);
        expect(r.exitCode, r.stderr).toBe(2);
        expect(r.stderr).toContain(
          `usage error: --telemetry ${bad} ${why}. Nothing was read or changed: no lock, journal or file was made, and nothing was moved.`,
        );
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(snapshotDir(dir)).toEqual(before); // no run folder, no lock, the database byte-identical
      }
    }
  });

  it("a collation SQLite has not got (a program registers it while it runs): export and cutover refuse (3) naming it and where, before reading, nothing written", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    sqlite(
      db,
      `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
       CREATE INDEX notes_body ON notes (body);
       WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 300) INSERT INTO notes SELECT i, 'note ' || i FROM k;
       PRAGMA writable_schema = ON;
       UPDATE sqlite_master SET sql = 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT COLLATE "frob nicate")' WHERE name = 'notes';
       UPDATE sqlite_master SET sql = 'CREATE INDEX notes_body ON notes (body COLLATE [frob nicate])' WHERE name = 'notes_body';`,
    );
    const before = snapshotDir(dir);
    for (const args of [
      ["export-legacy", "--db", db, join(dir, "b.jsonl")],
      ["cutover", "--db", db],
      ["cutover", "--db", db, "--apply"],
    ]) {
      const r = await cli(args);
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toContain('declares a collation SQLite in this tool does not have: "frob nicate" (table notes, index notes_body)');
      expect(r.stderr).toMatch(/Nothing was changed: the database was only read/);
      expect(r.stderr).not.toMatch(/Unexpected failure|no such collation|\n\s+at /);
      expect(snapshotDir(dir)).toEqual(before); // no backup, no run folder, no lock; the database as it was
    }
    // diagnose reads no rows: it still describes the file.
    expect((await cli(["diagnose", "--db", db])).exitCode).toBe(0);
    // A virtual table's arguments (its module's text) and a view naming one are no reason (review, helper-89).
    const other = join(dir, "other.db");
    sqlite(
      other,
      `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'a');
       CREATE VIRTUAL TABLE f USING fts4(a TEXT COLLATE frob, b); INSERT INTO f VALUES ('hello', 'x');
       CREATE VIEW v AS SELECT body FROM notes ORDER BY body COLLATE frob;`,
    );
    const ok = await cli(["export-legacy", "--db", other, join(dir, "other.jsonl")]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((await cli(["verify-backup", join(dir, "other.jsonl"), "--db", other])).exitCode).toBe(0);
  });

  it("malformed contract YAML: exit 1, names the file and the line", async () => {
    const root = contentCopy();
    const f = join(root, "contracts/db/baseline-version-policy.yaml");
    writeFileSync(f, readFileSync(f, "utf8").replace("baseline_history: [1, 33,", "baseline_history: [1, 33\nbroken: : :"));
    const dir = tmp();
    makeBaselineDb(join(dir, "vox.db"));
    const before = snapshotDir(dir);
    for (const cmd of [["ssot-drift"], ["verify", "--db", join(dir, "vox.db")], ["migrate", "--db", join(dir, "vox.db"), "--apply"]]) {
      const r = await cli(cmd, { env: { VOX_CUTOVER_ROOT: root } });
      expect(r.exitCode, cmd.join(" ")).toBe(1);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toMatch(/at line \d+/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("drift: exit 3, shows both values and the digest to paste", async () => {
    const root = contentCopy();
    appendFileSync(join(root, "schema/domains/09_packages.sql"), "\nCREATE INDEX IF NOT EXISTS idx_packages_version ON packages(version);\n");
    const r = await cli(["ssot-drift", "--json"], { env: { VOX_CUTOVER_ROOT: root } });
    expect(r.exitCode).toBe(3);
    expect(r.json.drift).toBe(true);
    const digest = (await cli(["digest"], { env: { VOX_CUTOVER_ROOT: root } })).stdout.trim();
    expect(r.json.computedDigest).toBe(digest);
    expect(r.stderr).toContain(`repository_baseline_digest_hex: "${digest}"`);
    expect(r.stderr + r.stdout).toMatch(/contract repository_baseline_digest_hex 0x/);
    const m = await cli(["migrate", "--db", join(tmp(), "x.db"), "--apply"], { env: { VOX_CUTOVER_ROOT: root } });
    expect(m.exitCode).toBe(3);
  });

  it("integer drift is named", async () => {
    const root = contentCopy();
    const f = join(root, "schema/manifest.yaml");
    writeFileSync(f, readFileSync(f, "utf8").replace("baseline_version: 66", "baseline_version: 67"));
    const r = await cli(["ssot-drift"], { env: { VOX_CUTOVER_ROOT: root } });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/manifest baseline_version = 67, contract repository_baseline_integer = 66/);
  });

  it("digest prints the contract's digest", async () => {
    const r = await cli(["digest", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(r.json.digest).toMatch(/^0x[0-9a-f]{64}$/);
    expect(readFileSync(join(ROOT, "contracts/db/baseline-version-policy.yaml"), "utf8")).toContain(r.json.digest);
  });
});

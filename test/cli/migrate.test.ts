import { beforeEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);
beforeEach(() => {
  dir = tmp();
});

/** A database on the earlier baseline 56: lacks a table and a column that baseline 60 has. */
function makeBehind(path: string, version = 56): void {
  makeBaselineDb(path, [version]);
  const db = fixtureDb(path);
  db.exec("DROP TABLE publication_attempts; ALTER TABLE publication_manifests DROP COLUMN metadata_json;");
  db.exec("INSERT INTO publication_manifests(publication_id, content_type, title) VALUES ('p1', 'article', 'T')");
  db.exec("INSERT INTO agent_reliability(agent_id, task_kind, score) VALUES ('a', 'k', 7.5), ('b', 'k', 0.25)");
  db.close();
}

describe("migrate", () => {
  it("missing: the dry-run lists the statements and creates nothing; --apply creates the baseline file", async () => {
    const db = p("sub/new.db");
    const dry = await cli(["migrate", "--db", db, "--json"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.json.mode).toBe("dry-run");
    expect(dry.json.planDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(dry.json.steps.map((s: any) => s.id)).toEqual(["create-file", "baseline-ddl", "record-version"]);
    expect(dry.stderr).toMatch(/CREATE TABLE objects/);
    expect(existsSync(p("sub"))).toBe(false);
    const app = await cli(["migrate", "--db", db, "--apply", "--plan", dry.json.planDigest]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(sqlite(db, "SELECT version FROM schema_version")).toBe("60");
    expect(readdirSync(p("sub"))).toEqual(["new.db"]);
    const v = await cli(["verify", "--db", db]);
    expect(v.exitCode).toBe(0);
    expect(sqlite(db, "SELECT command, mode FROM cutover_ledger")).toBe("migrate|apply");
  });

  it("empty: baseline applied in place", async () => {
    const db = p("empty.db");
    fixtureDb(db).close();
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await cli(["verify", "--db", db])).exitCode).toBe(0);
  });

  it("behind: folds in place after a verified snapshot, adding the table, the column with its default, and running version-gated steps", async () => {
    const db = p("vox.db");
    makeBehind(db);
    const before = sha256(db);
    const dry = await cli(["migrate", "--db", db, "--json"]);
    expect(dry.exitCode).toBe(0);
    const ids = dry.json.steps.map((s: any) => s.id);
    expect(ids).toEqual(["backup", "add-columns", "baseline-ddl", "fold:v58-reliability-score-range", "fold:v60-publication-attempt-channel", "record-version"]);
    expect(dry.stderr).toContain('ALTER TABLE "publication_manifests" ADD COLUMN "metadata_json" TEXT');
    expect(sha256(db)).toBe(before);
    const work = p("work");
    const app = await cli(["migrate", "--db", db, "--apply", "--work-dir", work, "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.backup.verified).toBe(true);
    const backup = join(work, "backup.jsonl");
    expect(app.json.backup.path).toBe(backup);
    const vb = await cli(["verify-backup", backup, "--json"]);
    expect(vb.exitCode).toBe(0);
    expect(vb.json.backup.chain).toBe("behind");
    // the backup holds the pre-fold state: version 56 and the unclamped score
    const text = readFileSync(backup, "utf8");
    expect(text).toMatch(/"k":"table","name":"schema_version".*\n\[56,/);
    expect(text).toContain('[1,"a","k",0,0,{"r":7.5},null]');
    expect(sqlite(db, "SELECT group_concat(version) FROM schema_version ORDER BY version")).toBe("56,60");
    expect(sqlite(db, "SELECT typeof(metadata_json) FROM publication_manifests")).toBe("null");
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts")).toBe("0");
    expect(sqlite(db, "SELECT agent_id, score FROM agent_reliability ORDER BY agent_id")).toBe("a|1.0\nb|0.25");
    expect((await cli(["verify", "--db", db])).exitCode).toBe(0);
    const again = await cli(["migrate", "--db", db, "--apply", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(again.json.changed).toBe(false);
  });

  it("behind from 58 skips the step gated below 58", async () => {
    const db = p("vox.db");
    makeBehind(db, 58);
    const dry = await cli(["migrate", "--db", db, "--json"]);
    expect(dry.json.steps.map((s: any) => s.id)).not.toContain("fold:v58-reliability-score-range");
  });

  it("a failing version-gated step is reported and rolls everything back", async () => {
    const db = p("vox.db");
    makeBehind(db);
    const f = fixtureDb(db);
    f.exec("CREATE TRIGGER no_updates BEFORE UPDATE ON agent_reliability BEGIN SELECT RAISE(ABORT, 'reliability is frozen'); END;");
    f.close();
    const before = sha256(db);
    const r = await cli(["migrate", "--db", db, "--apply", "--work-dir", p("w")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/v58-reliability-score-range failed/);
    expect(r.stderr).toMatch(/reliability is frozen/);
    expect(r.stderr).toMatch(/rolled back/);
    expect(sha256(db)).toBe(before);
  });

  it("current: nothing to do", async () => {
    const db = p("vox.db");
    makeBaselineDb(db);
    const before = sha256(db);
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/nothing to migrate/);
    expect(sha256(db)).toBe(before);
  });

  it.each([["legacy"], ["ahead"]])("%s: exit 4 with the Stage 1 hint, untouched", async (kind) => {
    const db = p("vox.db");
    makeBaselineDb(db, kind === "legacy" ? [3, 60] : [60, 70]);
    const before = snapshotDir(dir);
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/LegacySchemaChain/);
    expect(r.stderr).toMatch(kind === "legacy" ? /cutover/ : /Upgrade/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("--plan with another digest is refused (exit 3) and changes nothing", async () => {
    const db = p("vox.db");
    makeBehind(db);
    const before = snapshotDir(dir);
    const r = await cli(["migrate", "--db", db, "--apply", "--plan", "0000000000000000"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/plan changed/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("a corrupt file: exit 1, untouched", async () => {
    const db = p("vox.db");
    makeBaselineDb(db);
    const f = fixtureDb(db);
    f.close();
    const { writeFileSync, readFileSync } = await import("node:fs");
    const buf = readFileSync(db);
    buf.fill(0x41, 0, 16);
    writeFileSync(db, buf);
    const before = snapshotDir(dir);
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/not-a-database/);
    expect(snapshotDir(dir)).toEqual(before);
  });
});

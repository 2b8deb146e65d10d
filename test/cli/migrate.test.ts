import { beforeEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, fixtureDb, makeBaselineDb, makeVoxDb, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);
beforeEach(() => {
  dir = tmp();
});

/**
 * vox 60 as vox leaves it (rows 59, 60): lacks tables and columns vox 66 has. It holds a reliability
 * score of 7.5 (no fold step may clamp or rewrite a stored value) and an approval row.
 */
function makeBehind(path: string, versions = [59, 60]): void {
  makeVoxDb(
    path,
    "60",
    versions,
    `INSERT INTO agent_reliability(agent_id, reliability) VALUES ('a', 7.5), ('b', 0.25);
     INSERT INTO publication_approvals(publication_id, content_sha3_256, approver, approved_at_ms) VALUES ('p1', 'd1', 'ann', 1700000000000);`,
  );
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
    expect(sqlite(db, "SELECT version FROM schema_version")).toBe("66");
    expect(readdirSync(p("sub"))).toEqual(["new.db"]);
    const v = await cli(["verify", "--db", db]);
    expect(v.exitCode).toBe(0);
    expect(sqlite(db, "SELECT command, mode FROM cutover_ledger")).toBe("migrate|apply");
    // vox's seed rows come with the baseline
    expect(sqlite(db, "SELECT count(*) > 0 FROM developer_journey_steps")).toBe("1");
  });

  it("empty: baseline applied in place", async () => {
    const db = p("empty.db");
    fixtureDb(db).close();
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await cli(["verify", "--db", db])).exitCode).toBe(0);
  });

  it("behind (vox 60): folds a copy after a verified backup and swaps it in (the original archived byte for byte, rollback a rename), adding tables and columns with their defaults; no stored value is rewritten", async () => {
    const db = p("vox.db");
    makeBehind(db);
    const before = sha256(db);
    // migrate runs no Stage 2: a sidecar beside the file (here one that is no database) is neither read nor a reason to stop
    const side = p("vox_training_telemetry.db");
    writeFileSync(side, "garbage".repeat(200));
    const dry = await cli(["migrate", "--db", db, "--json"]);
    expect(dry.exitCode).toBe(0);
    const ids = dry.json.steps.map((s: any) => s.id);
    // The fixture's FTS sync triggers are generated from the vox 60 facts (no text given there, no COALESCE):
    // the fold replaces them with vox 66's own text.
    expect(ids).toEqual(["backup", "copy", "add-columns", "replace-triggers", "baseline-ddl", "record-version", "swap"]);
    expect(dry.stderr).toContain('ALTER TABLE "publication_approvals" ADD COLUMN approver_role TEXT');
    expect(dry.stderr).toContain('DROP TRIGGER IF EXISTS "knowledge_nodes_fts_ai"');
    expect(sha256(db)).toBe(before);
    const work = p("work");
    const app = await cli(["migrate", "--db", db, "--apply", "--work-dir", work, "--plan", dry.json.planDigest, "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.backup.verified).toBe(true);
    expect(readFileSync(side, "utf8")).toBe("garbage".repeat(200));
    const backup = join(work, "backup.jsonl");
    expect(app.json.backup.path).toBe(backup);
    const vb = await cli(["verify-backup", backup, "--json"]);
    expect(vb.exitCode).toBe(0);
    expect(vb.json.backup.chain).toBe("behind");
    // the backup holds the pre-fold state: versions 59, 60 and the score as stored
    const text = readFileSync(backup, "utf8");
    expect(text).toMatch(/"k":"table","name":"schema_version".*\n\[59,/);
    expect(sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY version)")).toBe("59,60,66");
    expect(sqlite(db, "SELECT agent_id, reliability, typeof(reliability) FROM agent_reliability ORDER BY agent_id")).toBe("a|7.5|real\nb|0.25|real");
    expect(sqlite(db, "SELECT publication_id, approver, approver_role FROM publication_approvals")).toBe("p1|ann|human"); // the column's default
    expect(sqlite(db, "SELECT count(*) FROM vcs_lock")).toBe("0");
    const v = await cli(["verify", "--db", db, "--json"]);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.json.structure.equal).toBe(true);
    // Every change is a swap: the original is in the archive, byte for byte, and the rollback renames it back.
    expect(app.json.archive.path).toBe(join(work, "archive", "vox.db"));
    expect(sha256(app.json.archive.path)).toBe(before);
    expect(dry.stderr).toMatch(/swap: .*hard-link it into the work dir's archive/);
    const again = await cli(["migrate", "--db", db, "--apply", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(again.json.changed).toBe(false);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply", "--work-dir", work]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(before);
  });

  it("current with a drifted structure (vox's own fold adds no columns): repaired in a copy after a verified backup and swapped in, nothing dropped", async () => {
    const db = p("vox.db");
    makeVoxDb(
      db,
      "66",
      [64, 66],
      "ALTER TABLE publication_approvals DROP COLUMN approver_role; DROP INDEX idx_a2a_ack_created; ALTER TABLE users ADD COLUMN karma INTEGER; INSERT INTO users(id, display_name, karma) VALUES ('u1', 'Ann', 7);",
    );
    const v0 = await cli(["verify", "--db", db]);
    expect(v0.exitCode).toBe(1);
    expect(v0.stdout).toMatch(/publication_approvals: columns missing: approver_role/);
    const dry = await cli(["migrate", "--db", db, "--json"]);
    expect(dry.json.steps.map((s: any) => s.id)).toEqual(["backup", "copy", "add-columns", "baseline-ddl", "record-version", "swap"]);
    const app = await cli(["migrate", "--db", db, "--apply", "--work-dir", p("w"), "--json"]);
    expect(app.exitCode, app.stderr).toBe(0);
    expect(app.json.backup.verified).toBe(true);
    expect(sqlite(db, "SELECT name FROM pragma_index_list('a2a_messages') WHERE name = 'idx_a2a_ack_created'")).toBe("idx_a2a_ack_created");
    expect(sqlite(db, "SELECT id, karma, typeof(karma) FROM users")).toBe("u1|7|integer"); // a column beyond the target is kept
    const v = await cli(["verify", "--db", db, "--json"]);
    expect(v.exitCode, v.stdout).toBe(0);
    expect(v.json.structure.kept.columns).toEqual([{ table: "users", columns: ["karma"] }]);
  });

  it("a fold whose result would still differ from the target rolls everything back and points at the cutover", async () => {
    const db = p("vox.db");
    // A view named like a table vox 66 adds: CREATE TABLE IF NOT EXISTS passes over it silently.
    makeBehind(db);
    const f = fixtureDb(db);
    f.exec("CREATE VIEW scientia_prereg AS SELECT 1 AS id");
    f.close();
    const before = sha256(db);
    const r = await cli(["migrate", "--db", db, "--apply", "--work-dir", p("w")]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/still differs from the target: .*scientia_prereg: table missing/);
    expect(r.stderr).toMatch(/rolled back/);
    expect(r.stderr).toMatch(/vox-cutover cutover/);
    expect(sha256(db)).toBe(before);
  });

  it("a column that cannot be added in place (NOT NULL without default) blocks the fold (exit 3) and names the cutover", async () => {
    const db = p("vox.db");
    makeVoxDb(db, "66", [66], "ALTER TABLE a2a_messages DROP COLUMN sender_agent;");
    const before = sha256(db);
    const r = await cli(["migrate", "--db", db, "--json"]);
    expect(r.exitCode).toBe(3);
    expect(r.json.blockers.join(" ")).toMatch(/a2a_messages\.sender_agent is NOT NULL without a default/);
    const app = await cli(["migrate", "--db", db, "--apply", "--work-dir", p("w")]);
    expect(app.exitCode).toBe(3);
    expect(app.stderr).toMatch(/vox-cutover cutover/);
    expect(sha256(db)).toBe(before);
  });

  it("current: nothing to do", async () => {
    const db = p("vox.db");
    makeVoxDb(db, "66", [59, 60, 61, 62, 63, 64, 66]);
    const before = sha256(db);
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/nothing to migrate/);
    expect(sha256(db)).toBe(before);
  });

  it.each([["legacy"], ["ahead"]])("%s: exit 4 with the Stage 1 hint, untouched", async (kind) => {
    const db = p("vox.db");
    makeVoxDb(db, "66", kind === "legacy" ? [66, 100, 101] : [66, 67]);
    const before = snapshotDir(dir);
    const r = await cli(["migrate", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/^LegacySchemaChain: /m);
    expect(r.stderr).not.toMatch(/LegacySchemaChain: LegacySchemaChain/); // the label once (helper-102)
    expect(r.stderr).toMatch(kind === "legacy" ? /cutover/ : /--target-schema vox/);
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

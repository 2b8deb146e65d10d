/**
 * --target-schema FILE|vox: the target taken from the operator's own vox. Tests put a small stand-in
 * `vox` on PATH that, like `VOX_DB_PATH=FILE vox codex verify`, creates a fresh database at its
 * baseline (here a "vox 67": vox 66 plus a table and a column, row 67).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { cli, makeVoxDb, sqlite, tmp, voxFacts } from "../helpers.js";
import { standInVox, templateSql } from "../fixtures/vox-standin.js";

let dir: string;
let bin: string;
let template: string;
const PATH = () => `${bin}:${process.env.PATH}`;

beforeAll(() => {
  dir = tmp("vox-test-target-");
  const facts = voxFacts("66");
  facts.tables.users.columns.push({ name: "nickname", type: "TEXT", notnull: false, default: null, pk: 0 });
  facts.tables.release_notes = { columns: [{ name: "id", type: "INTEGER", notnull: false, default: null, pk: 1 }, { name: "body", type: "TEXT", notnull: true, default: "''", pk: 0 }], autoincrement: true };
  const sql = templateSql(facts, 67);
  bin = standInVox(dir, sql);
  template = join(dir, "template.db");
  execaSync("sh", ["-c", `sqlite3 '${template}' < '${join(bin, "template.sql")}'`]);
  // A file vox 67 wrote (ahead of the bundled 66), and a legacy vox 60 file with ad-hoc rows.
  makeVoxDb(join(dir, "v67.db"), "66", [67], "ALTER TABLE users ADD COLUMN nickname TEXT; CREATE TABLE release_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL DEFAULT ''); INSERT INTO users (id, display_name, nickname) VALUES ('u1', 'Ann', 'annie');");
  makeVoxDb(join(dir, "legacy.db"), "60", [59, 60, 100], "INSERT INTO users (id, display_name) VALUES ('u2', 'Bo');");
});

describe("--target-schema", () => {
  it("the chosen target is a value in force for the process, never written to the environment (a child would inherit it)", async () => {
    const { applyTargetOption } = await import("../../src/schema/target.js");
    const { chosenTarget, setTarget } = await import("../../src/schema/chosen.js");
    const { loadBaselineContext } = await import("../../src/diagnose/diagnose.js");
    const envBefore = { ...process.env };
    try {
      await applyTargetOption(template);
      expect(chosenTarget()).toEqual({ kind: "file", path: template });
      expect(process.env).toEqual(envBefore);
      expect(loadBaselineContext().manifest.baselineVersion).toBe(67);
      expect(loadBaselineContext().origin).toEqual({ kind: "file", path: template, label: `the template ${template}` });
    } finally {
      setTarget(null);
    }
    expect(loadBaselineContext().origin.kind).toBe("bundled");
  });

  it("a file a newer vox wrote is ahead of the bundled baseline, and current against the operator's vox", async () => {
    const bundled = await cli(["diagnose", "--db", join(dir, "v67.db"), "--json"]);
    expect(bundled.json.chain).toBe("ahead");
    expect(bundled.json.next.join(" ")).toMatch(/--target-schema vox/);
    const t = tmp("vox-test-target-scratch-");
    const own = await cli(["diagnose", "--db", join(dir, "v67.db"), "--target-schema", "vox", "--json"], { env: { PATH: PATH(), TMPDIR: t } });
    expect(own.exitCode, own.stderr).toBe(0);
    expect(own.json.chain).toBe("current");
    expect(own.json.baseline.version).toBe(67);
    expect(own.json.baseline.history).toContain(66);
    expect(own.json.baseline.origin).toBe("the operator's vox (vox 0.67.0 (stand-in))");
    expect(own.json.structure.equal).toBe(true);
    // vox ran in a scratch folder that is gone afterwards
    expect(readdirSync(t)).toEqual([]);
    const v = await cli(["verify", "--db", join(dir, "v67.db"), "--target-schema", "vox"], { env: { PATH: PATH() } });
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/target: the operator's vox/);
  });

  it("cutover --target-schema vox builds the new file from the operator's vox: dry-run → --apply --plan → verify", async () => {
    const db = join(dir, "legacy.db");
    const env = { PATH: PATH() };
    const dry = await cli(["cutover", "--db", db, "--target-schema", "vox", "--json"], { env });
    expect(dry.exitCode, dry.stderr).toBe(0);
    const app = await cli(["cutover", "--db", db, "--target-schema", "vox", "--apply", "--plan", dry.json.planDigest, "--json"], { env });
    expect(app.exitCode, app.stderr).toBe(0);
    expect(sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("59,60,67");
    expect(sqlite(db, "SELECT id, display_name, typeof(nickname) FROM users")).toBe("u2|Bo|null");
    expect(sqlite(db, "SELECT count(*) FROM pragma_table_info('release_notes')")).toBe("2");
    const v = await cli(["verify", "--db", db, "--target-schema", template, "--json"]);
    expect(v.exitCode, v.stdout).toBe(0);
    expect(v.json.structure.equal).toBe(true);
    // Against the bundled baseline the result is a newer vox's file: ahead, exit 4.
    expect((await cli(["verify", "--db", db])).exitCode).toBe(4);
    // A plan reviewed against one target does not apply against another.
    const other = await cli(["cutover", "--db", join(dir, "v67.db"), "--json"]);
    expect(other.json.planDigest ?? null).not.toBe(dry.json.planDigest);
  });

  it("bad targets are clear errors: not a database (2), no schema_version (3), no vox on PATH (3: a precondition, as not enough disk is)", async () => {
    writeFileSync(join(dir, "junk.db"), "not sqlite");
    const junk = await cli(["diagnose", "--db", join(dir, "v67.db"), "--target-schema", join(dir, "junk.db")]);
    expect(junk.exitCode).toBe(2);
    expect(junk.stderr).toMatch(/--target-schema .*junk\.db is not a database file/);
    makeVoxDb(join(dir, "noversion.db"), "66", []);
    const nov = await cli(["diagnose", "--db", join(dir, "v67.db"), "--target-schema", join(dir, "noversion.db")]);
    expect(nov.exitCode).toBe(3);
    expect(nov.stderr).toMatch(/no schema_version row/);
    const novox = await cli(["diagnose", "--db", join(dir, "v67.db"), "--target-schema", "vox"], { env: { PATH: "/usr/bin:/bin" } });
    expect(novox.exitCode).toBe(3);
    expect(novox.stderr).toMatch(/there is no `vox` on PATH/);
    expect(novox.stderr).not.toMatch(/\n\s+at /);
  });

  it("whether vox is on PATH is a lookup: no process is started when there is none (the wizard asks as it opens); a vox that is there is asked its version", async () => {
    const cp = (await import("node:child_process")).default;
    const { syncBuiltinESMExports } = await import("node:module");
    const { voxOnPath } = await import("../../src/schema/target.js");
    const spawn = cp.spawn;
    const saved = process.env.PATH;
    const spawned: string[] = [];
    cp.spawn = ((file: string, ...rest: unknown[]) => (spawned.push(file), (spawn as (...a: unknown[]) => unknown)(file, ...rest))) as typeof cp.spawn;
    syncBuiltinESMExports();
    try {
      const nothing = tmp("vox-test-novox-");
      writeFileSync(join(nothing, "vox"), "#!/bin/sh\nexit 0\n"); // there, but not executable: not a command
      process.env.PATH = `${nothing}:${join(nothing, "absent")}::/usr/bin:/bin`;
      expect(await voxOnPath()).toBe(false);
      expect(spawned).toEqual([]);
      process.env.PATH = PATH();
      expect(await voxOnPath()).toBe(true);
      expect(spawned).toEqual(["vox"]); // the spy sees execa's spawn: the empty list above means none
    } finally {
      process.env.PATH = saved;
      cp.spawn = spawn;
      syncBuiltinESMExports();
    }
  });

  it("the wizard's question: does the operator's vox agree with the bundled baseline? (no vox: null)", async () => {
    const { compareOperatorsVox } = await import("../../src/diagnose/target-check.js");
    const saved = process.env.PATH;
    const savedTmp = process.env.TMPDIR;
    const t = tmp("vox-test-compare-");
    try {
      process.env.PATH = PATH();
      process.env.TMPDIR = t;
      const c = await compareOperatorsVox();
      expect(readdirSync(t)).toEqual([]); // the template it made is gone
      expect(c).toMatchObject({ version: 67, voxVersion: "vox 0.67.0 (stand-in)", agrees: false, bundledVersion: 66 });
      expect(c && "differences" in c ? c.differences : 0).toBe(2); // users.nickname and release_notes
      process.env.PATH = "/usr/bin:/bin";
      expect(await compareOperatorsVox()).toBeNull();
    } finally {
      process.env.PATH = saved;
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
  });
});

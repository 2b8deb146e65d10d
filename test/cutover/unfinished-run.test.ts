/**
 * A run left unfinished (killed after its swap) is the next thing to deal with: `diagnose` names it and
 * gives its resume and rollback first (helper-101: it said "nothing to migrate" and pointed at the
 * sidecar), and the commands that would write beside its journal (sidecar, news-check, drill --apply)
 * are refused (3) until it is resumed or rolled back — a change its rollback would not know.
 */
import { describe, expect, it } from "vitest";
import { cli, pausedAt, sampleInto, sha256, tmp } from "../helpers.js";
import { join } from "node:path";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { execaSync } from "execa";

describe("a run left unfinished comes first", () => {
  it("diagnose names it and its resume; sidecar, news-check and drill --apply are refused (3) until it is resumed", async () => {
    const dir = tmp();
    await sampleInto(dir, 5);
    const db = join(dir, "vox.db");
    const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "after:swap");
    child.kill("SIGKILL");
    await child;
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.json.unfinishedRun.what).toMatch(/An unfinished cutover of this database is recorded in .*vox-cutover-runs.*swap phase new-in-place/);
    expect(d.json.next[0]).toMatch(/Resume it: vox-cutover cutover --db .* --resume --apply — or undo it: .* --rollback --apply/);
    expect(d.stderr + d.stdout).toMatch(/unfinished run: An unfinished cutover/);
    const before = sha256(db);
    for (const args of [
      ["sidecar", "--db", db, "--apply"],
      ["news-check", "--db", db, "--apply"],
      ["drill", "--db", db, "--apply"],
    ]) {
      const r = await cli(args);
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/An unfinished cutover of this database is recorded in/);
    }
    expect(sha256(db)).toBe(before);
    const resumed = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const after = await cli(["diagnose", "--db", db, "--json"]);
    expect(after.json.unfinishedRun).toBeUndefined();
    expect((await cli(["drill", "--db", db, "--apply"])).exitCode).toBe(0);
  }, 120_000);

  it("in a work dir of the operator's choosing too: found beside the database without --work-dir, resumed and rolled back from there", async () => {
    const dir = tmp();
    await sampleInto(dir, 5);
    const db = join(dir, "vox.db");
    const orig = sha256(db);
    const elsewhere = join(tmp(), "runs", "mine");
    const { child } = await pausedAt(["cutover", "--db", db, "--apply", "--work-dir", elsewhere], "after:swap");
    child.kill("SIGKILL");
    await child;
    // Without the pointer beside the database this run was invisible: diagnose said the file was current, a new run could start.
    const pointers = readdirSync(join(dir, "vox-cutover-runs"));
    expect(pointers).toEqual([expect.stringMatching(/\.work-dir\.json$/)]);
    expect(JSON.parse(readFileSync(join(dir, "vox-cutover-runs", pointers[0]!), "utf8"))).toMatchObject({ workDir: elsewhere, db });
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.json.unfinishedRun.what).toContain(elsewhere);
    expect(d.json.next[0]).toContain(`--work-dir ${elsewhere}`);
    const side = await cli(["sidecar", "--db", db, "--apply"]);
    expect(side.exitCode, side.stderr).toBe(3);
    const again = await cli(["cutover", "--db", db, "--apply"]);
    expect(again.exitCode, again.stderr).toBe(3);
    expect(again.stderr).toContain(elsewhere);
    // A pointer is input to verify (helper-104): one naming a folder without this run's marker is not taken for a run; a FIFO
    // (or a device) is never opened — reading one blocked diagnose and every writing command for ever, Ctrl-C included.
    const forged = join(tmp(), "forged");
    writeFileSync(join(dir, "vox-cutover-runs", "x.work-dir.json"), JSON.stringify({ format: "vox-cutover-work-dir", runId: "x", db, workDir: forged }));
    execaSync("mkfifo", [join(dir, "vox-cutover-runs", "fifo.work-dir.json")]);
    execaSync("mkfifo", [join(dir, "vox-cutover-runs", "fifo-dir")]);
    const held = await cli(["diagnose", "--db", db, "--json"]);
    expect(held.exitCode, held.stderr).toBe(0);
    expect(held.json.unfinishedRun.what).toContain(elsewhere);
    const resumed = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect((await cli(["diagnose", "--db", db, "--json"])).json.unfinishedRun).toBeUndefined();
    // The rollback closed the run: its pointer is gone (the forged ones are not this tool's to remove).
    expect(readdirSync(join(dir, "vox-cutover-runs")).sort()).toEqual(["fifo-dir", "fifo.work-dir.json", "x.work-dir.json"]);
  }, 120_000);

  it("a vox-cutover-runs that is a symbolic link to a folder is followed: its runs are found (helper-106: --rollback said there was none)", async () => {
    const dir = tmp();
    await sampleInto(dir, 5);
    const db = join(dir, "vox.db");
    const orig = sha256(db);
    const real = join(tmp(), "runs-elsewhere");
    mkdirSync(real);
    symlinkSync(real, join(dir, "vox-cutover-runs"));
    expect((await cli(["cutover", "--db", db, "--apply"])).exitCode).toBe(0);
    expect(readdirSync(real)).toHaveLength(1);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
  }, 120_000);
});

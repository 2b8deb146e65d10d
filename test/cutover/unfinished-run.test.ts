/**
 * A run left unfinished (killed after its swap) is the next thing to deal with: `diagnose` names it and
 * gives its resume and rollback first (helper-101: it said "nothing to migrate" and pointed at the
 * sidecar), and the commands that would write beside its journal (sidecar, news-check, drill --apply)
 * are refused (3) until it is resumed or rolled back — a change its rollback would not know.
 */
import { describe, expect, it } from "vitest";
import { cli, pausedAt, sampleInto, sha256, tmp } from "../helpers.js";
import { join } from "node:path";

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
});

/**
 * The pointer a --work-dir run leaves beside the database (src/engine/run-pointers.ts) is input to
 * verify (helper-104): it is rewritten whole for the same run (an adopted trial's run id: it failed
 * with EEXIST, "Unexpected failure"); one that cannot be written is said and the run goes on; a
 * pointer, or the folder it names, of another user is not followed; a FIFO is never opened.
 */
import { describe, expect, it } from "vitest";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { dist, tmp } from "../helpers.js";

type Pointers = typeof import("../../src/engine/run-pointers.js");

function setup() {
  const dir = tmp("vox-pointers-");
  const db = join(dir, "vox.db");
  writeFileSync(db, "");
  const work = join(tmp("vox-pointers-work-"), "w");
  mkdirSync(work);
  writeFileSync(
    join(work, ".vox-cutover-run.json"),
    JSON.stringify({ format: "vox-cutover-run", runId: "r1", command: "cutover", db, dev: null, ino: null, createdAt: "now" }),
  );
  return { dir, db, work };
}

describe("a run's pointer beside the database", () => {
  it("is rewritten whole for the same run; names its folder only while the folder's marker names that run and this database", async () => {
    const p = await dist<Pointers>("engine/run-pointers.js");
    const { dir, db, work } = setup();
    const warnings: string[] = [];
    p.pointToWorkDir(db, join(dir, "elsewhere-first"), "r1", (t) => warnings.push(t));
    p.pointToWorkDir(db, work, "r1", (t) => warnings.push(t)); // the same run id again: no EEXIST
    expect(warnings).toEqual([]);
    const name = "r1.work-dir.json";
    expect(JSON.parse(readFileSync(join(dir, "vox-cutover-runs", name), "utf8")).workDir).toBe(work);
    const owners = p.runOwners(db);
    expect(p.pointedWorkDir(name, db, owners)).toBe(work);
    // Another run's marker in that folder: not this run's folder.
    writeFileSync(
      join(work, ".vox-cutover-run.json"),
      JSON.stringify({ format: "vox-cutover-run", runId: "r2", command: "cutover", db, dev: null, ino: null, createdAt: "now" }),
    );
    expect(p.pointedWorkDir(name, db, owners)).toBeNull();
  });

  it("one that cannot be written is said, not thrown; a FIFO, or a folder of another user, is not followed", async (ctx) => {
    const p = await dist<Pointers>("engine/run-pointers.js");
    const { dir, db, work } = setup();
    writeFileSync(join(dir, "vox-cutover-runs"), "a file where the folder would be");
    const warnings: string[] = [];
    p.pointToWorkDir(db, work, "r1", (t) => warnings.push(t));
    expect(warnings.join()).toMatch(/could not be written beside the database .* find this run only when given --work-dir/);
    expect(() => p.removePointer(db, "r1")).not.toThrow(); // a rollback's last act: ENOTDIR there was "Unexpected failure" after the files moved back

    const b = setup();
    mkdirSync(join(b.dir, "vox-cutover-runs"));
    execaSync("mkfifo", [join(b.dir, "vox-cutover-runs", "f.work-dir.json")]);
    expect(p.pointedWorkDir("f.work-dir.json", b.db, p.runOwners(b.db))).toBeNull(); // returns at once: never opened
    p.pointToWorkDir(b.db, b.work, "r1", () => undefined);
    expect(p.pointedWorkDir("r1.work-dir.json", b.db, p.runOwners(b.db))).toBe(b.work);
    if (process.getuid?.() !== 0) return ctx.skip(); // chown to another user needs root
    chownSync(b.work, 65534, 65534); // the folder is now nobody's: another user could have put it where a removed one was
    expect(p.pointedWorkDir("r1.work-dir.json", b.db, p.runOwners(b.db))).toBeNull();
  });

  it("a run marker that is a FIFO (planted above a --work-dir, in /tmp) is not opened: it blocked every command given such a path, Ctrl-C included (helper-106)", async () => {
    const owned = await dist<typeof import("../../src/safety/owned.js")>("safety/owned.js");
    const dir = tmp("vox-marker-fifo-");
    execaSync("mkfifo", [join(dir, ".vox-cutover-run.json")]);
    expect(owned.readMarker(dir)).toBeNull(); // returns at once
  });
});

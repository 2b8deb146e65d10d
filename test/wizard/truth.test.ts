/**
 * The wizard tells the truth in a real terminal (issue 19): an apply-time gate shown at Stage 0
 * before Start, a typo and Esc at a confirmation, an engine failure as an error screen, and the
 * terminal closing (SIGHUP) mid-run. Screens are waited for, never slept on; each journey is one
 * tmux session; TMPDIR is the test's own, listed after.
 */
import { afterAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sampleInto, sha256 } from "../helpers.js";
import { acceptToPlan, cleanUpTmux, exitCode, keys, noReactWarnings, scratchDir, start, type, waitFor } from "./tmux.js";

afterAll(cleanUpTmux);

/** CAPTURE_DIR=… keeps the key screens (for the closing note). */
function keep(name: string, text: string): void {
  const dir = process.env.CAPTURE_DIR;
  if (dir) writeFileSync(join(dir, `${name}.txt`), text);
}

const flat = (s: string) => s.replace(/\s+/g, " ");
const joined = (s: string) => s.replace(/\s+/g, "");

/** A python process holding the database open (an application still running), until killed. */
async function holdOpen(db: string) {
  const child = execa(
    "python3",
    [
      "-c",
      "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1])\nc.execute('select count(*) from sqlite_master').fetchall()\nprint('ready', flush=True)\ntime.sleep(300)",
      db,
    ],
    { reject: false, stdin: "ignore" },
  );
  await new Promise<void>((res, rej) => {
    child.stdout!.on("data", (d: Buffer) => (String(d).includes("ready") ? res() : undefined));
    void child.on("exit", () => rej(new Error("python exited")));
  });
  return { child }; // not the child itself: an async function would wait for a returned thenable to end
}

function tmpdirOf(dir: string): string {
  const t = join(dir, "tmp");
  mkdirSync(t);
  return t;
}

describe("the wizard tells the truth (tmux)", () => {
  it("60×20: a held file blocks Start at Stage 0 until it is let go; a typo asks again; Esc cancels the step; Resume asks again; the summary's paths and roll-back command wrap whole", async () => {
    // A database one folder deeper than the scratch folder: paths as long as an operator's wrap on every screen.
    const deep = join(scratchDir(), "srv-vox-production-data");
    mkdirSync(deep);
    const { dir, db } = await sampleInto(deep, 10);
    const tmp = tmpdirOf(dir);
    const { child: app } = await holdOpen(db);
    const { name, exitFile, errFile } = start(`--db ${db}`, { cols: 60, rows: 20, env: `NO_COLOR=1 TMPDIR=${tmp}` });
    let s = await waitFor(name, /Check again/);
    keep("60x20-stage0-held", s);
    expect(s).not.toMatch(/Continue to Stage 1/);
    expect(flat(s)).toMatch(new RegExp(`--apply would be refused now: Another process holds the database`));
    expect(flat(s)).toContain(`pid ${app.pid} (`);
    expect(flat(s)).toMatch(/Start would be refused now: ! --apply would be refused now/);
    expect(flat(s)).toMatch(/then run the command again\. ▸ Check again/); // whole, then the choice
    for (const line of s.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
    app.kill("SIGKILL");
    await app;
    keys(name, "Enter"); // Check again: the engine runs the gates again
    await acceptToPlan(name, (plan) => {
      keep("60x20-plan", plan);
      // the plan fits: the top (which database) is not scrolled away, the destructive steps are named
      expect(plan.split("\n")[0]).toBe(`vox-cutover ${db}`);
      expect(plan).toMatch(/\[destructive\] Swap/);
      expect(plan).toMatch(/\[destructive\] Training-telemetry sidecar/);
      expect(plan).toMatch(/… and \d+ more step\(s\)/);
    });
    s = await waitFor(name, /Type vox\.db to proceed; Esc cancels/);
    keep("60x20-swap", s);
    // what the swap does wraps whole: where the old file goes is on screen, never cut mid-sentence
    const run = readdirSync(join(dir, "vox-cutover-runs"))[0]!;
    expect(joined(s)).toContain(
      joined(`hard-link it into ${join(dir, "vox-cutover-runs", run, "archive", "vox.db")}, rename .vox.db.vox-cutover-new over vox.db`),
    );
    expect(s).not.toMatch(/…[a-z]/); // no line cut in the middle of a word
    expect(s.split("\n")[0]).toMatch(/^vox-cutover /); // the top is not scrolled away
    await type(name, "vox.bd\n"); // a typo, pasted with its newline
    s = await waitFor(name, /nothing was done/);
    keep("60x20-typo", s);
    expect(joined(s)).toContain(joined(`"vox.bd" is not vox.db: nothing was done. Type vox.db to proceed, or Esc to cancel this step.`));
    keys(name, "Escape");
    s = await waitFor(name, /Resume now/);
    keep("60x20-esc", s);
    expect(s).toMatch(/Cancelled/);
    expect(s.split("\n")[0]).toMatch(/^vox-cutover /);
    keys(name, "Enter"); // Resume now: the same run, asked again
    await waitFor(name, /Type vox\.db to proceed/);
    await type(name, "vox.db\n");
    await waitFor(name, /Merge the missing rows/);
    keys(name, "Enter");
    await waitFor(name, /Type vox_training_telemetry\.db to proceed/);
    await type(name, "vox_training_telemetry.db\n");
    await waitFor(name, /Telemetry consumers/);
    keys(name, "Enter");
    s = await waitFor(name, /Leave/);
    keep("60x20-summary", s);
    for (const line of s.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
    // the summary fits the rows it has: the header (which database) is not scrolled away
    expect(s.split("\n")[0]).toBe(`vox-cutover ${db}`);
    expect(flat(s)).toMatch(/Done with \d+ problems?: legacy → current \(report\.md lists them\)/);
    expect(joined(s)).toContain(joined(`Archive: ${join(dir, "vox-cutover-runs", run, "archive", "vox.db")} (the old file, never deleted)`));
    expect(joined(s)).toContain(joined(`Roll back: vox-cutover cutover --db ${db} --rollback --apply`));
    // …and report.md does list them, each with its step
    const md = readFileSync(join(dir, "vox-cutover-runs", run, "report.md"), "utf8");
    expect(md).toMatch(/## Problems \(steps that finished with warnings\)\n\n(- .*\n)*- sidecar: \d+ sidecar conflict\(s\) put in legacy_quarantine\n/);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    noReactWarnings(errFile);
  }, 400_000);

  it("an engine failure before any run (a malformed contract) is an error screen at Stage 0: what, untouched, next; exit 1; no scratch left", async () => {
    const dir = scratchDir();
    const { db, orig } = await sampleInto(dir, 10);
    const tmp = tmpdirOf(dir);
    const root = join(dir, "root");
    for (const f of ["schema", "contracts", "package.json"]) cpSync(join(ROOT, f), join(root, f), { recursive: true });
    writeFileSync(join(root, "contracts", "db", "baseline-version-policy.yaml"), "repository_baseline_integer: [66\n  bad: : yaml\n");
    const { name, exitFile, errFile } = start(`--db ${db}`, { rows: 34, env: `NO_COLOR=1 TMPDIR=${tmp} VOX_CUTOVER_ROOT=${root}` });
    const s = await waitFor(name, /Enter\/q leave/);
    keep("100x34-engine-failure", s);
    expect(s.split("\n")[0]).toBe(`vox-cutover ${db}`); // the database it was asked to look at, even though it failed
    expect(s).toMatch(/▸\[0 Preconditions\]/);
    expect(s).toMatch(/Failed while looking at the database/);
    expect(flat(s)).toMatch(/is not valid YAML at line 1/);
    expect(flat(s)).toMatch(/No database was opened or changed\. Fix line 1 of/);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(1);
    expect(readFileSync(errFile, "utf8")).toMatch(/^Failed while looking at the database: The contract file/m);
    expect(readFileSync(errFile, "utf8")).not.toMatch(/UnhandledPromiseRejection|\n\s+at /);
    expect(readdirSync(tmp)).toEqual([]);
    expect(sha256(db)).toBe(orig);
    noReactWarnings(errFile);
  });

  it("the terminal closing (SIGHUP) at the swap's question: exit 129, no scratch, no crash; the primary untouched; the next start names the step it stopped before and offers Resume", async () => {
    const dir = scratchDir();
    const { db, orig } = await sampleInto(dir, 10);
    const tmp = tmpdirOf(dir);
    // The shell outlives the hang-up (a trap), so it can record the wizard's exit status.
    const { name, exitFile, errFile } = start(`--db ${db}`, { rows: 34, env: `NO_COLOR=1 TMPDIR=${tmp}`, trapHup: true });
    await acceptToPlan(name);
    keep("100x34-swap-question", await waitFor(name, /Type the file's name/));
    await execa("tmux", ["kill-session", "-t", name]); // the terminal goes away
    expect(await exitCode(exitFile)).toBe(129);
    const err = readFileSync(errFile, "utf8");
    expect(err).not.toMatch(/EIO|Assertion failed|\n\s+at /);
    expect(readdirSync(tmp)).toEqual([]); // the wizard's scratch folder is removed
    expect(sha256(db)).toBe(orig);
    const run = join(dir, "vox-cutover-runs", readdirSync(join(dir, "vox-cutover-runs"))[0]!);
    expect(existsSync(join(run, "journal.jsonl"))).toBe(true);
    const again = start(`--db ${db}`, { rows: 34, env: `NO_COLOR=1 TMPDIR=${tmp}` });
    const s = await waitFor(again.name, /Resume it/);
    keep("100x34-reopen", s);
    expect(flat(s)).toMatch(
      /It stopped before "Swap: archive the old file, put the new one in its place" in Stage 1 \(Legacy chain\), after "Primary unchanged since the export" finished/,
    );
    expect(s).toMatch(/The original vox\.db was never moved/);
    keys(again.name, "q");
    expect(await exitCode(again.exitFile)).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    noReactWarnings(again.errFile);
  });
});

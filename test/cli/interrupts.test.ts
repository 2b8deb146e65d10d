/**
 * Every interrupt of a command that only reads or writes a new file: a one-line note of what state
 * everything is in, exit 128+signal, no partial or trial file left (the folder and $TMPDIR are
 * listed after), and never a resume offer that cannot work. One sample per file; a test hook pauses
 * the process at a progress point so the signal lands mid-work without fixed sleeps.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cli, interruptAt, sampleWithFewerTables, sha256, tmp } from "../helpers.js";
import { cleanUpTmux, exitCode, start } from "../wizard/tmux.js";

let dir: string;
let db: string;
let orig: string;
let original: string[];

beforeAll(async () => {
  dir = tmp();
  db = join(dir, "vox.db");
  ({ orig } = await sampleWithFewerTables(dir, 20)); // the tables an interruption is tested with (helpers: the same for any table)
  original = readdirSync(dir).sort();
});

afterAll(cleanUpTmux);

describe("interrupts leave nothing behind and say so in one line", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const)("export-legacy %s mid-export: no OUT, no hidden .partial file, exit %i, no resume offer", async (sig, code) => {
    const out = join(dir, "backup.jsonl");
    const { res, tmpdirAfter } = await interruptAt(["export-legacy", out, "--db", db], "export-progress", sig);
    expect(res.exitCode, res.stderr).toBe(code);
    const notes = res.stderr.split("\n").filter((l) => /^interrupted:/.test(l));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(new RegExp(`Interrupted \\(${sig}\\) during export-legacy.*was not written.*partial file .*removed.*nothing to resume`));
    expect(res.stderr).not.toMatch(/--resume|Resume with/);
    expect(readdirSync(dir).sort()).toEqual(original); // no backup.jsonl, no .backup.jsonl.partial-*
    expect(tmpdirAfter).toEqual([]);
    expect(sha256(db)).toBe(orig);
  });

  it("cutover dry-run SIGINT during the trial import: trial folder removed from $TMPDIR, no work dir, no resume offer", async () => {
    const { res, tmpdirAfter } = await interruptAt(["cutover", "--db", db], "trial-progress", "SIGINT");
    expect(res.exitCode, res.stderr).toBe(130);
    expect(res.stderr).toMatch(
      /^interrupted: Interrupted \(SIGINT\) during the dry-run's trial import\. Nothing was written.*scratch folder was removed.*nothing to resume or roll back\.$/m,
    );
    expect(res.stderr).not.toMatch(/--resume|Resume with/);
    expect(tmpdirAfter).toEqual([]); // no vox-cutover-trial-*
    expect(readdirSync(dir).sort()).toEqual(original); // no vox-cutover-runs
    expect(sha256(db)).toBe(orig);
    // and what the note says is true: there is nothing to resume
    const again = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/no unfinished cutover run/);
  });

  it("cutover dry-run SIGINT during the trial's build (a synchronous stretch: the signal is seen once it ends): nothing kept, no work dir, no resume offer", async () => {
    // Paused at the end of the build (the signal sent there, as into its synchronous tail); its copies proven on a worker (as from 32 MB),
    // whose end comes in the event loop's poll phase: from there one setImmediate would not pass a poll, and the signal would be seen only after the plan.
    const { res, tmpdirAfter } = await interruptAt(["cutover", "--db", db], "trial-import-done", "SIGINT", { VOX_CUTOVER_PROOF_WORKER_BYTES: "0" });
    expect(res.exitCode, res.stderr).toBe(130);
    expect(res.stderr).toMatch(/^interrupted: Interrupted \(SIGINT\) during the dry-run's trial import\. Nothing was written.*scratch folder was removed/m);
    expect(res.stderr).not.toMatch(/The trial's backup and new file are kept|dry-run: nothing was changed/);
    expect(tmpdirAfter).toEqual([]); // neither a scratch folder nor a kept trial
    expect(readdirSync(dir).sort()).toEqual(original);
    expect(sha256(db)).toBe(orig);
  });

  it("rehearse SIGINT after its export: its scratch folder is removed from $TMPDIR, and the note offers no resume of the clone that is gone", async () => {
    const { res, tmpdirAfter } = await interruptAt(["rehearse", "--db", db], "after:export", "SIGINT");
    expect(res.exitCode, res.stderr).toBe(130);
    const notes = res.stderr.split("\n").filter((l) => /^interrupted:/.test(l));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /Interrupted \(SIGINT\).*The real database .* was only read; the rehearsal's clone and everything it wrote .* were removed\. There is nothing to resume or roll back: run the rehearsal again when ready/,
    );
    expect(res.stderr).not.toMatch(/--resume|Resume with|Resume:/);
    expect(tmpdirAfter).toEqual([]); // no vox-cutover-rehearse-*
    expect(readdirSync(dir).sort()).toEqual(original);
    expect(sha256(db)).toBe(orig);
  });

  it("the terminal closes mid-run without a SIGHUP reaching the command (its shell traps it): the run goes on, exits with its own code, no native abort (Node 20 restoring a vanished terminal)", async () => {
    const d = tmp();
    const copy = join(d, "vox.db");
    await sampleWithFewerTables(d, 10); // the worker's cut sample, copied (throws if `sample` failed)
    const marker = join(d, "paused");
    const { name, exitFile, errFile } = start(`cutover --db ${copy} --apply`, {
      env: `VOX_CUTOVER_PAUSE_AT=after:export VOX_CUTOVER_PAUSE_MS=60000 VOX_CUTOVER_PAUSE_FILE=${marker}`,
      trapHup: true,
    });
    const t0 = Date.now();
    while (!existsSync(marker)) {
      if (Date.now() - t0 > 60_000) throw new Error("never reached after:export");
      await new Promise((res) => setTimeout(res, 20));
    }
    await execa("tmux", ["kill-session", "-t", name]); // the terminal goes away
    rmSync(marker);
    expect(await exitCode(exitFile)).toBe(0);
    expect(readFileSync(errFile, "utf8")).not.toMatch(/Assertion failed|EIO|\n\s+at /);
  });

  it("cutover dry-run SIGTERM during the trial import exits 143", async () => {
    const { res, tmpdirAfter } = await interruptAt(["cutover", "--db", db], "trial-progress", "SIGTERM");
    expect(res.exitCode, res.stderr).toBe(143);
    expect(res.stderr).toMatch(/Interrupted \(SIGTERM\) during the dry-run's trial import/);
    expect(tmpdirAfter).toEqual([]);
  });
});

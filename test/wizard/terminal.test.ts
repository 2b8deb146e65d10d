import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sampleInto, sha256, sqlite } from "../helpers.js";
import { acceptToPlan, cleanUpTmux, exitCode, keys, noReactWarnings, scratchDir, screen, start, type, waitFor } from "./tmux.js";

afterAll(cleanUpTmux);

function sample(rows = 30): Promise<{ dir: string; db: string; orig: string }> {
  return sampleInto(scratchDir(), rows);
}

describe("the wizard in a real terminal (tmux)", () => {
  it("cutover journey: evidence at the swap, a pasted name with its newline, the sidecar asks for its own name, honest marks, no React warning", async () => {
    const { dir, db, orig } = await sample();
    const side = sha256(join(dir, "vox_training_telemetry.db"));
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await waitFor(name, /Continue to Stage 1/);
    keys(name, "Enter");
    await waitFor(name, /Where should the backup go/);
    await type(name, "xq/"); // typing in the path field: validated as typed, no React error flood
    await waitFor(name, /names a folder/);
    for (let i = 0; i < 3; i++) keys(name, "BSpace");
    await waitFor(name, /looks good/);
    keys(name, "Enter");
    await waitFor(name, /The plan \(digest [0-9a-f]{16}\)/);
    keys(name, "Enter");
    let s = await waitFor(name, /Type the file's name \(vox.db\)/);
    expect(s).toMatch(/Destructive step: Swap/);
    expect(s).toMatch(/Rows: [\d,]+ in the old file → [\d,]+ loaded, [\d,]+ quarantined/);
    expect(s).toMatch(/Backup: verified/);
    await type(name, "vox.db\n"); // a paste with its newline, in one burst
    s = await waitFor(name, /Stage 2 — The training-telemetry sidecar/);
    expect(s).toMatch(/\w+: \d+ rows, \d+ already in the new file, \d+ missing, \d+ conflicting/);
    keys(name, "Enter");
    s = await waitFor(name, /Type the file's name \(vox_training_telemetry\.db\)/);
    await type(name, "vox_training_telemetry.db");
    keys(name, "Enter");
    await waitFor(name, /Stage 3 — Telemetry consumers/);
    keys(name, "Escape"); // Esc never runs a step
    // Keys after it still reach Stage 3's field (keys are read in order): no fixed wait for nothing to happen.
    await type(name, "zq9");
    expect(screen(name)).toMatch(/Stage 3 — Telemetry consumers/);
    keys(name, "BSpace", "BSpace", "BSpace");
    await waitFor(name, /^(?![\s\S]*zq9)[\s\S]*Stage 3 — Telemetry consumers/); // the field empty again
    keys(name, "Enter");
    s = await waitFor(name, /Done(: | with \d+ problems?)/);
    expect(s).not.toMatch(/✓ done +\d .*(mismatch|violation)\(es\)?[^;]*[1-9]/);
    expect(s).not.toMatch(/✓ skipped|✓ done +3 Telemetry consumers — skipped/);
    expect(s.replace(/\s+/g, "")).toMatch(/Backup:\/\S*backup\.jsonl\(verified\)/); // the path may wrap
    expect(s).toMatch(/▸ Leave/);
    keys(name, "Enter");
    expect(await exitCode(exitFile)).toBe(0);
    expect(readFileSync(errFile, "utf8")).toMatch(/Cut over: .* is now current/);
    noReactWarnings(errFile);
    // the independent checker: every row is in the new file or quarantined; the archive is the original
    const runs = readdirSync(join(dir, "vox-cutover-runs"));
    const archive = join(dir, "vox-cutover-runs", runs[0]!, "archive", "vox.db");
    expect(sha256(archive)).toBe(orig);
    expect(sha256(join(dir, "vox-cutover-runs", runs[0]!, "archive", "vox_training_telemetry.db"))).toBe(side);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });

  it("wrong name: Enter alone asks again, a wrong name asks again saying so, Esc cancels; reopen says stages and files; Start over asks for the name and says what moved", async () => {
    const { db, orig } = await sample(10);
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await acceptToPlan(name);
    await waitFor(name, /Type the file's name/);
    keys(name, "Enter");
    await waitFor(name, /An empty answer confirms nothing/);
    await type(name, "q?vox");
    keys(name, "Enter");
    // A mistyped name asks again (and says so); Esc then cancels the step, Leave ends the wizard.
    await waitFor(name, /"q\?vox" is not vox\.db: nothing was done/);
    keys(name, "Escape");
    const s = await waitFor(name, /Resume now/);
    expect(s).toMatch(/Cancelled/);
    expect(s).toMatch(/confirmation was not given/);
    keys(name, "Down");
    await waitFor(name, /▸ Leave/);
    keys(name, "Enter");
    expect(await exitCode(exitFile)).toBe(130);
    expect(readFileSync(errFile, "utf8")).toMatch(/next start of the wizard offers Resume/);
    noReactWarnings(errFile);
    expect(sha256(db)).toBe(orig);
    const again = start(`--db ${db}`, { env: "NO_COLOR=1" });
    let r = await waitFor(again.name, /An unfinished cutover of vox.db/);
    expect(r.replace(/\s+/g, " ")).toMatch(/It stopped before "Swap[^"]*" in Stage 1 \(Legacy chain\), after "Primary unchanged since the export" finished/); // the step it stopped before, not the last that ran
    expect(r).toMatch(/The original vox.db was never moved/);
    expect(r).not.toMatch(/swap phase|primary-unchanged|build-import/);
    keys(again.name, "Down", "Down");
    await waitFor(again.name, /▸ Start over/);
    keys(again.name, "Enter");
    r = await waitFor(again.name, /Type the database's file name \(vox.db\) to roll back/);
    await type(again.name, "vox.db");
    keys(again.name, "Enter");
    r = await waitFor(again.name, /Rolled back/);
    expect(r).toMatch(/never moved/);
    expect(r).toMatch(/▸ Plan the cutover again/);
    keys(again.name, "Enter");
    await waitFor(again.name, /Continue to Stage 1/);
    expect(sha256(db)).toBe(orig);
    keys(again.name, "q");
    expect(await exitCode(again.exitFile)).toBe(0);
    expect(readFileSync(again.errFile, "utf8")).toMatch(/Nothing was changed/);
    noReactWarnings(again.errFile);
  });

  it("Ctrl-C during the run (at the swap's question) stops before the swap, says so, exits 130; the primary is untouched", async () => {
    const { db, orig } = await sample(10);
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await acceptToPlan(name);
    await waitFor(name, /Type the file's name/);
    keys(name, "C-c");
    expect(await exitCode(exitFile)).toBe(130);
    expect(readFileSync(errFile, "utf8")).toMatch(/Cancelled before swap/);
    noReactWarnings(errFile);
    expect(sha256(db)).toBe(orig);
  });

  it("q during a running step: 'Stopping after …' at once, exit 130 at the safe point, the primary untouched", async () => {
    const { dir, db, orig } = await sample(10);
    // The engine's test hook holds the export at its first report until the marker file is removed:
    // q always lands in a running step, on a small sample (a large one only made that likely).
    const marker = join(dir, "export-paused");
    // The dry-run's trial is not kept: the apply makes its own export (adopting the trial's, it would not run one).
    const pause = `VOX_CUTOVER_KEEP_TRIAL=0 VOX_CUTOVER_PAUSE_AT=export-progress VOX_CUTOVER_PAUSE_ONCE=1 VOX_CUTOVER_PAUSE_MS=60000 VOX_CUTOVER_PAUSE_FILE=${marker}`;
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: `NO_COLOR=1 ${pause}` });
    await acceptToPlan(name);
    for (const t0 = Date.now(); !existsSync(marker); await new Promise((r) => setTimeout(r, 20)))
      if (Date.now() - t0 > 60_000) throw new Error(`the export never paused:\n${screen(name)}`);
    await waitFor(name, /▸ running[\s\S]*copying rows to the backup/); // the export's progress on screen
    keys(name, "q");
    // While a step runs, the screen says within a moment that it stops after the step.
    expect(await waitFor(name, /Stopping (after|now)/, 15_000)).toMatch(/Stopping after the current batch of rows of "Export/);
    rmSync(marker); // the export goes on, and stops at its next check
    expect(await exitCode(exitFile)).toBe(130);
    const note = readFileSync(errFile, "utf8");
    expect(note).toMatch(/untouched|Cancelled before swap|before anything was written: nothing was changed/);
    if (/before anything was written/.test(note)) expect(note).not.toMatch(/offers Resume/);
    noReactWarnings(errFile);
    expect(sha256(db)).toBe(orig);
  });

  it("roll back after a finished cutover: asks for the name, puts the original back byte-identical, keeps the new file, says what moved where", async () => {
    const { db, orig } = await sample(10);
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await acceptToPlan(name);
    await waitFor(name, /Type the file's name \(vox.db\)/);
    await type(name, "vox.db\n");
    await waitFor(name, /Stage 2 — The training-telemetry sidecar/);
    keys(name, "Down", "Enter");
    await waitFor(name, /vox_training_telemetry\.db\) to proceed/);
    await type(name, "vox_training_telemetry.db\n");
    await waitFor(name, /Stage 3 — Telemetry consumers/);
    keys(name, "Enter");
    await waitFor(name, /Done/);
    const newSha = sha256(db);
    keys(name, "Down");
    await waitFor(name, /▸ Roll back this cutover/);
    keys(name, "Enter");
    const s = await waitFor(name, /to roll back/);
    expect(s).toMatch(/\(the original\) →/);
    await type(name, "vox.db\n");
    const after = await waitFor(name, /Rolled back|Roll back not done/);
    expect(after).toMatch(/Rolled back run/);
    expect(sha256(db)).toBe(orig); // the original is back, byte for byte
    const flat = after.replace(/\s+/g, "");
    // What moved where: the plan the engine carried out, in the dry-run's words.
    expect(flat).toMatch(/\(thenewfile,witheverywritemadesincetheswap\)→\S+?rolled-back-new\.db\(kept,notdeleted\)/);
    expect(flat).toMatch(/archive\/vox\.db\(theoriginal\)→/);
    const kept = /→(\S+?rolled-back-new\.db)\(kept,notdeleted\)/.exec(flat)![1]!;
    expect(sha256(kept)).toBe(newSha); // the cut-over file is kept, not deleted
    expect(after).toMatch(/is legacy/);
    keys(name, "q");
    await exitCode(exitFile);
    noReactWarnings(errFile);
  });

  it("Esc and q on Stage 0: Esc does nothing (not in the footer), q quits saying nothing changed", async () => {
    const { db } = await sample(5);
    const { name, exitFile, errFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    const s = await waitFor(name, /Continue to Stage 1/);
    expect(s).not.toMatch(/Esc/);
    expect(s).not.toMatch(/state kept/);
    keys(name, "Escape");
    // Esc did nothing: the next key still moves Stage 0's menu (keys are read in order), from Continue to the next choice.
    keys(name, "Down");
    const moved = await waitFor(name, /▸ (?!Continue)/);
    expect(moved).toMatch(/^ {2}Continue to Stage 1/m);
    expect(moved).toMatch(/Stage 0 — Preconditions/);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
    expect(readFileSync(errFile, "utf8")).toMatch(/^Nothing was changed\.$/m);
    expect(readFileSync(errFile, "utf8")).not.toMatch(/Resume with/);
  });

  it("the trial its plan kept goes with the wizard: q on Stage 0 leaves no kept trial behind", async () => {
    const { db } = await sample(5);
    const own = scratchDir();
    const trials = join(own, `vox-cutover-trials-${process.getuid!()}`);
    const { name, exitFile } = start(`--db ${db}`, { env: `NO_COLOR=1 TMPDIR=${own}` });
    await waitFor(name, /Continue to Stage 1/);
    expect(readdirSync(trials)).toHaveLength(1); // kept by the plan's dry-run for this wizard's apply
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
    expect(existsSync(trials) ? readdirSync(trials) : []).toEqual([]);
    expect(readdirSync(own).filter((n) => n.startsWith("vox-cutover-"))).toEqual([]);
  });

  it("a rehearsal's apply adopts the trial its plan kept (both run as rehearse); Ctrl-C at the swap leaves none behind", async () => {
    const { db, orig } = await sample(5);
    const own = scratchDir();
    const trials = join(own, `vox-cutover-trials-${process.getuid!()}`);
    const { name, exitFile } = start(`--rehearse --db ${db}`, { env: `NO_COLOR=1 TMPDIR=${own}` });
    await acceptToPlan(name);
    await waitFor(name, /Type the file's name/);
    // The run's journal (in the clone's scratch folder) says the export and the build were adopted.
    const wizard = readdirSync(own).find((n) => n.startsWith("vox-cutover-wizard-"))!;
    const clone = join(
      own,
      wizard,
      readdirSync(join(own, wizard)).find((n) => n.startsWith("rehearse-"))!,
    );
    const journal = readFileSync(join(clone, "run", "journal.jsonl"), "utf8");
    expect(journal).toMatch(/"summary":"the dry-run's backup \([^)]*\) adopted/);
    expect(journal).toMatch(/"summary":"the dry-run's build \([^)]*\) adopted/);
    keys(name, "C-c");
    expect(await exitCode(exitFile)).toBe(130);
    expect(existsSync(trials) ? readdirSync(trials) : []).toEqual([]);
    expect(sha256(db)).toBe(orig);
  });

  it("Ctrl-C exits 130 at once when nothing runs, saying nothing changed", async () => {
    const { db } = await sample(5);
    const { name, exitFile, errFile } = start(`--db ${db}`);
    await waitFor(name, /Continue to Stage 1/);
    keys(name, "C-c");
    expect(await exitCode(exitFile)).toBe(130);
    expect(readFileSync(errFile, "utf8")).toMatch(/Interrupted\. Nothing was changed\./);
  });

  it("NO_COLOR turns colour off and the current stage is still marked; without it the current stage is coloured", async () => {
    const { db } = await sample(5);
    const plain = start(`--db ${db}`, { env: "NO_COLOR=1" });
    const s = await waitFor(plain.name, /Continue to Stage 1/);
    expect(screen(plain.name, true)).not.toMatch(/\x1b\[(3[0-7]|9[0-7]|38;)/);
    expect(s).toMatch(/▸\[0 Preconditions\]/);
    keys(plain.name, "q");
    const colour = start(`--db ${db}`, { env: "TERM=xterm-256color" });
    await waitFor(colour.name, /Continue to Stage 1/);
    expect(screen(colour.name, true)).toMatch(/\x1b\[(3[0-7]|9[0-7]|38;)/);
    // readable on light and dark backgrounds: no yellow, white or black text (issue 19 point 8)
    expect(screen(colour.name, true)).not.toMatch(/\x1b\[(?:[0-9;]*;)?(?:30|33|37|90|93|97)m/);
    keys(colour.name, "q");
  });

  it.each([
    [60, 20],
    [80, 24],
  ])("fits a %ix%i terminal: tabs readable, the choices and the counts on screen", async (cols, rows) => {
    const { db } = await sample(10);
    const { name, exitFile, errFile } = start(`--db ${db}`, { cols, rows, env: "NO_COLOR=1" });
    let s = await waitFor(name, /Continue to Stage 1/);
    expect(s).toMatch(/Stage 0 — Preconditions/);
    expect(s).toMatch(/▸\[0 Preconditions\]/);
    expect(s).toMatch(/Quit/);
    expect(s).toMatch(/q quit/);
    for (const line of s.split("\n")) expect(line.length).toBeLessThanOrEqual(cols);
    keys(name, "Enter");
    await waitFor(name, /Where should the backup go/);
    keys(name, "Enter");
    await waitFor(name, /The plan/);
    keys(name, "Enter");
    s = await waitFor(name, /Type vox\.db to proceed/); // a small terminal: the prompt in one line
    expect(s).toMatch(/Destructive step: Swap/); // the top of the screen is not scrolled away
    expect(s).toMatch(/Rows: [\d,]+ → [\d,]+ loaded, [\d,]+ quarantined/); // the evidence's gist, wrapped
    expect(s).toMatch(/Ctrl-C stop/);
    keys(name, "Escape");
    await waitFor(name, /Cancelled/);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(130);
    noReactWarnings(errFile);
  });

  it("with no database anywhere it offers a sample and rehearses on it (npm start for a newcomer)", async () => {
    const home = scratchDir();
    const { name, exitFile, errFile } = start("", { env: `HOME=${home} XDG_DATA_HOME=${home}/xdg TMPDIR=${home} NO_COLOR=1`, cwd: home }); // the sample's scratch folder lands in home, removed with it
    await waitFor(name, /Create a sample legacy database and rehearse on it/);
    keys(name, "Enter");
    const s = await waitFor(name, /Continue to Stage 1/);
    expect(s).toMatch(/REHEARSAL on a sample the wizard made/);
    expect(s).not.toMatch(/given with --db/);
    expect(existsSync(join(home, "xdg", "vox"))).toBe(false);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
    const note = readFileSync(errFile, "utf8");
    expect(note).toMatch(new RegExp(`Nothing was changed\\. The sample database the wizard made is in ${home}/vox-cutover-sample-`));
  });
});

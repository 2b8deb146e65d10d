#!/usr/bin/env node
/**
 * The wizard's key screens, captured from a real terminal (tmux) on a real cutover of the sample
 * database, at 100×34 and 60×20, written to docs/screens.md (issue 19's closing note shows them).
 * Not a test: run it by hand after `npm run build` — `node scripts/screens.mjs` (about a minute).
 * Each size works in its own fixed folder /tmp/vox-screens/<cols>x<rows> (made anew, removed after),
 * so the paths on the screens read the same from one run to the next; only run ids and times move.
 *
 * Screens: Stage 0, the plan, progress (a step running), the swap's confirmation with its evidence,
 * the exit line after Ctrl-C there, the reopen screen (Resume), the summary (with report.md's
 * numbers beside it) and an error screen (a malformed contract file, an engine failure).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "dist", "src", "cli", "main.js");
const BASE = "/tmp/vox-screens";
const ROWS_PER_TABLE = "400"; // about 18 MB: the copy runs long enough for its progress to be seen

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args) => execFileSync("tmux", args, { encoding: "utf8" });
let sessions = 0;

function start(dir, args, cols, rows, env = "") {
  const name = `voxscreens${process.pid}x${sessions++}`;
  const exit = join(dir, `exit-${name}`);
  const err = join(dir, `stderr-${name}`);
  const cmd = `cd ${q(dir)} && env -u CI -u VOX_DB_PATH -u VOX_DB_URL NO_COLOR=1 ${env} node ${q(BIN)} ${args} 2> ${q(err)}; echo $? > ${q(exit)}; cat ${q(err)}; sleep 30`;
  tmux("new-session", "-d", "-s", name, "-x", String(cols), "-y", String(rows), cmd);
  return { name, exit, err };
}
const capture = (name) => tmux("capture-pane", "-t", name, "-p").replace(/\s+$/, "");
const keys = (name, ...k) => tmux("send-keys", "-t", name, ...k);
const typeText = (name, text) => tmux("send-keys", "-t", name, "-l", text);

async function waitFor(name, re, ms = 120_000) {
  const t0 = Date.now();
  for (;;) {
    const s = capture(name);
    if (re.test(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} in:\n${s}`);
    await sleep(40);
  }
}
async function exitCode(f) {
  const t0 = Date.now();
  while (!existsSync(f) || !readFileSync(f, "utf8").trim()) {
    if (Date.now() - t0 > 120_000) throw new Error("the wizard did not exit");
    await sleep(50);
  }
  return Number(readFileSync(f, "utf8").trim());
}
function end(name) {
  spawnSync("tmux", ["kill-session", "-t", name]);
}

async function sizeRun(cols, rows) {
  const dir = join(BASE, `${cols}x${rows}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = join(dir, "vox.db");
  execFileSync("node", [BIN, "sample", db, "--rows", ROWS_PER_TABLE], { stdio: "ignore" });
  const shots = [];
  const shot = (title, text, note = "") => shots.push({ title, text, note });

  // 1. Stage 0, the plan, a step running, the swap's question; Ctrl-C there.
  let w = start(dir, `--db ${q(db)}`, cols, rows);
  shot("Stage 0 (preconditions, the apply-time gates included)", await waitFor(w.name, /Continue to Stage 1/));
  keys(w.name, "Enter");
  await waitFor(w.name, /Where should the backup go/);
  keys(w.name, "Enter");
  shot("The plan", await waitFor(w.name, /The plan[\s\S]*▸ Start/));
  // The apply of that plan adopts its trial's export and build (a moment): the progress is shown on a run that builds itself.
  keys(w.name, "q");
  await exitCode(w.exit);
  end(w.name);
  w = start(dir, `--db ${q(db)}`, cols, rows, "VOX_CUTOVER_KEEP_TRIAL=0");
  await waitFor(w.name, /Continue to Stage 1/);
  keys(w.name, "Enter");
  await waitFor(w.name, /Where should the backup go/);
  keys(w.name, "Enter");
  await waitFor(w.name, /The plan[\s\S]*▸ Start/);
  keys(w.name, "Enter");
  shot(
    "Progress (a step running)",
    await waitFor(w.name, /rows · /),
    "With `VOX_CUTOVER_KEEP_TRIAL=0` (nothing kept: the apply exports and builds itself); by default the apply adopts the plan's trial and these steps take a moment.",
  );
  shot("The swap's confirmation, with its evidence", await waitFor(w.name, /Type (the file's name|vox\.db to proceed)/));
  keys(w.name, "C-c");
  const code = await exitCode(w.exit);
  shot(`Ctrl-C at the swap's question (exit ${code})`, capture(w.name));
  end(w.name);

  // 2. The next start: the reopen screen; Resume; the swap, the sidecar, Stage 3; the summary.
  w = start(dir, `--db ${q(db)}`, cols, rows);
  shot("Reopened: the unfinished run, and Resume", await waitFor(w.name, /Resume it/));
  keys(w.name, "Enter");
  await waitFor(w.name, /Type (the file's name|vox\.db to proceed)/);
  typeText(w.name, "vox.db\n");
  await waitFor(w.name, /Merge the missing rows/);
  keys(w.name, "Enter");
  await waitFor(w.name, /Type (the file's name \(vox_training_telemetry\.db\)|vox_training_telemetry\.db to proceed)/);
  typeText(w.name, "vox_training_telemetry.db\n");
  await waitFor(w.name, /Stage 3 — Telemetry consumers[\s\S]*> .*█/);
  keys(w.name, "Enter");
  const summary = await waitFor(w.name, /▸ Leave/);
  const run = readdirSync(join(dir, "vox-cutover-runs"))[0];
  const md = readFileSync(join(dir, "vox-cutover-runs", run, "report.md"), "utf8");
  const mdLines = md.split("\n").filter((l) => /^- (rows|quarantined rows|time):/.test(l));
  shot("The summary", summary, `report.md of the same run says:\n\n${mdLines.map((l) => `    ${l}`).join("\n")}`);
  keys(w.name, "Enter");
  await exitCode(w.exit);
  end(w.name);

  // 3. An error screen: a malformed contract file (an engine failure before any run).
  const root = join(dir, "root");
  for (const f of ["schema", "contracts", "package.json"]) cpSync(join(ROOT, f), join(root, f), { recursive: true });
  writeFileSync(join(root, "contracts", "db", "baseline-version-policy.yaml"), "repository_baseline_integer: [66\n  bad: : yaml\n");
  w = start(dir, `--db ${q(db)}`, cols, rows, `VOX_CUTOVER_ROOT=${q(root)}`);
  shot("An error screen (a malformed contract file)", await waitFor(w.name, /Enter\/q leave/));
  keys(w.name, "q");
  await exitCode(w.exit);
  end(w.name);
  rmSync(dir, { recursive: true, force: true });
  return shots;
}

const parts = [
  "# The wizard's key screens",
  "",
  "Captured from a real terminal (tmux, `NO_COLOR=1`) on a real cutover of the sample database",
  `(\`vox-cutover sample --rows ${ROWS_PER_TABLE}\`, with its sidecar), at 100×34 and 60×20.`,
  "Regenerate with `npm run build && node scripts/screens.mjs`; run ids, times and the",
  "timestamped run folder change from one run to the next.",
];
for (const [cols, rows] of [
  [100, 34],
  [60, 20],
]) {
  parts.push("", `## ${cols}×${rows}`);
  for (const s of await sizeRun(cols, rows)) {
    parts.push("", `### ${s.title}`, "", "```text", s.text, "```");
    if (s.note) parts.push("", s.note);
  }
}
rmSync(BASE, { recursive: true, force: true });
writeFileSync(join(ROOT, "docs", "screens.md"), parts.join("\n") + "\n");
console.log("wrote docs/screens.md");

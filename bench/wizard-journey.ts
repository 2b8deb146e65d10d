/**
 * The wizard's whole journey in a real terminal, with its memory over time (issue 18: peak RSS ≤ 200 MB).
 *
 *   node dist/bench/wizard-journey.js --from DIR|FILE [--bin PATH] [--reps N] [--every MS] [--log FILE] [--heaps] [--node-args "…"]
 *
 * Each repetition copies DIR's files (a sample: vox.db, its sidecar, telemetry.jsonl) or FILE (as vox.db)
 * into a fresh scratch folder, starts `sh BIN wizard --db …/vox.db` (as the bin and `npm start` run it: main.ts's launch
 * line; --node-args and --heaps's preload given through NODE_OPTIONS) in tmux (120×40, CI unset) under
 * GNU time, and answers each screen as it appears: Stage 0 Continue, the default backup path, the plan's
 * Start, every typed confirmation (the name asked for), the sidecar's default (merge), Stage 3 with the
 * files it offers (the folder's JSONL files: the sample's telemetry.jsonl; none: skipped), the summary's Leave. Every --every ms (default 200) it
 * reads the process's VmRSS and thread count (/proc/PID/status) and names the screen shown (the running
 * step's title while a step runs). It prints, per run: GNU time's peak RSS, wall and CPU, the load, where
 * the sampled RSS peaked, and the highest RSS seen on each screen. `--heaps` also loads a preload
 * (`node --import`) that logs every thread's V8 heap (the engine's threads too: their Worker is wrapped)
 * to the --log file — it costs memory itself, so peak figures are taken without it.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const arg = (name: string, fallback?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const from = arg("from");
if (!from) throw new Error("usage: wizard-journey.js --from DIR|FILE [--bin PATH] [--reps N] [--every MS] [--log FILE] [--heaps]");
const bin = resolve(arg("bin", fileURLToPath(new URL("../src/cli/main.js", import.meta.url)))!);
const reps = Number(arg("reps", "1"));
const every = Number(arg("every", "200"));
const log = arg("log");
const heaps = process.argv.includes("--heaps");
const nodeArgs = arg("node-args", "")!; // e.g. "--heap-prof --heap-prof-dir=DIR" (the measured process's own options)

/** Runs in every thread of the wizard (the main one by --import, workers by their wrapped Worker): logs its heap. */
function instrument(name: string, out: string, ms: number, self: string): void {
  const v8 = process.getBuiltinModule("node:v8");
  const fs = process.getBuiltinModule("node:fs");
  const wt = process.getBuiltinModule("node:worker_threads") as unknown as { threadId: number; Worker: unknown };
  const line = (o: object) => fs.appendFileSync(out, JSON.stringify({ t: Date.now(), thread: wt.threadId, name, ...o }) + "\n");
  const tick = () => {
    const h = v8.getHeapStatistics();
    const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace("_space", ""), Math.round(s.space_size / 1048576)]));
    line({
      heapMb: Math.round(h.total_heap_size / 1048576),
      usedMb: Math.round(h.used_heap_size / 1048576),
      extMb: Math.round(h.external_memory / 1048576),
      spaces: sp,
    });
  };
  setInterval(tick, ms).unref();
  tick();
  process.on("exit", () => line({ exit: true }));
  const Orig = wt.Worker as new (f: string | URL, o?: Record<string, unknown>) => object;
  wt.Worker = class extends Orig {
    constructor(f: string | URL, o: Record<string, unknown> = {}) {
      const url = o.eval ? undefined : f instanceof URL ? f.href : new URL(f, "file:///").href;
      const child = url?.slice(url.lastIndexOf("/") + 1);
      const code = `const f = ${self}; f(${JSON.stringify(child)}, ${JSON.stringify(out)}, ${ms}, String(f)); import(${JSON.stringify(url)});`;
      super(url ? code : f, url ? { ...o, eval: true } : o);
    }
  };
  process.getBuiltinModule("node:module").syncBuiltinESMExports();
}

function tmux(...a: string[]): string {
  return execFileSync("tmux", a, { encoding: "utf8" });
}
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The screen on display, by its text: a name (the running step's title while a step runs), the keys that answer it. */
function which(screen: string): { name: string; keys?: string[][] } {
  const confirm = /Type the (?:file's|database's) name \((.+?)\)/.exec(screen);
  if (confirm) return { name: `confirm ${confirm[1]}`, keys: [["-l", confirm[1]!], ["Enter"]] };
  if (/▸ Continue to Stage 1/.test(screen)) return { name: "stage0", keys: [["Enter"]] };
  if (/Where should the backup go/.test(screen)) return { name: "backup-path", keys: [["Enter"]] };
  if (/The plan \(digest[\s\S]*▸ Start/.test(screen)) return { name: "plan", keys: [["Enter"]] };
  if (/Stage 2 — The training-telemetry sidecar/.test(screen)) return { name: "sidecar", keys: [["Enter"]] };
  if (/Stage 3 — Telemetry consumers/.test(screen)) return { name: "telemetry", keys: [["Enter"]] }; // the field offers the folder's JSONL files
  if (/▸ Leave/.test(screen)) return { name: "summary", keys: [["Enter"]] };
  const running = /▸ running +\d (.+)/.exec(screen);
  if (running) return { name: running[1]!.replace(/ — .*| \[destructive\]/, "").trim() };
  return { name: /Stopping|Stopped|failed/i.test(screen) ? "stopped?" : "other" };
}

function status(pid: number): { rss: number; threads: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1]) / 1024, threads: Number(/Threads:\s+(\d+)/.exec(s)?.[1]) };
  } catch {
    return null;
  }
}

async function journey(rep: number): Promise<void> {
  const top = mkdtempSync(join(tmpdir(), "wizard-journey-"));
  const dir = join(top, "db"); // the database's folder holds only what was copied (Stage 3 offers its JSONL files)
  mkdirSync(dir);
  const files = statSync(from!).isDirectory() ? readdirSync(from!).map((f) => [join(from!, f), join(dir, f)]) : [[from!, join(dir, "vox.db")]];
  for (const [a, b] of files) copyFileSync(a!, b!, constants.COPYFILE_FICLONE);
  const [timeFile, pidFile, exitFile, errFile, heapLog] = ["time", "pid", "exit", "stderr", "heaps.jsonl"].map((f) => join(top, f)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  let pre = "";
  if (heaps) {
    const preload = join(top, "preload.mjs");
    writeFileSync(preload, `const f = ${String(instrument)};\nf("main", ${JSON.stringify(heapLog)}, ${every}, String(f));\n`);
    pre = `--import=${preload}`;
  }
  // As the bin runs it (main.ts's launch line); the measured process's own options through NODE_OPTIONS.
  const options = `${nodeArgs} ${pre}`.trim();
  const env = options ? `NODE_OPTIONS=${sh(options)} ` : "";
  const node = `sh -c ${sh(`echo $$ > ${sh(pidFile)}; ${env}exec sh ${sh(bin)} wizard --db ${sh(join(dir, "vox.db"))}`)}`;
  const cmd = `cd ${sh(dir)} && env -u CI /usr/bin/time -f '%e %U %S %M' -o ${sh(timeFile)} ${node} 2> ${sh(errFile)}; echo $? > ${sh(exitFile)}; sleep 30`;
  const session = `journey${process.pid}x${rep}`;
  const load0 = loadavg()[0]!;
  const t0 = Date.now();
  tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd);
  const seen = new Map<string, { first: number; rss: number }>();
  let peak = { rss: 0, at: 0, name: "", threads: 0 };
  let shown = "";
  let answered = "";
  let changed = Date.now();
  try {
    while (!existsSync(exitFile) || !readFileSync(exitFile, "utf8").trim()) {
      if (Date.now() - changed > 120_000) throw new Error(`stuck on "${shown}":\n${tmux("capture-pane", "-t", session, "-p")}`);
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
      const st = pid ? status(pid) : null;
      const screen = tmux("capture-pane", "-t", session, "-p");
      const w = which(screen);
      if (w.name !== shown) {
        shown = w.name;
        changed = Date.now();
      }
      const at = (Date.now() - t0) / 1000;
      if (st) {
        const s = seen.get(w.name) ?? { first: at, rss: 0 };
        s.rss = Math.max(s.rss, st.rss);
        seen.set(w.name, s);
        if (st.rss > peak.rss) peak = { rss: st.rss, at, name: w.name, threads: st.threads };
        if (log) appendFileSync(log, JSON.stringify({ rep, t: Date.now(), at, screen: w.name, rssMb: Math.round(st.rss), threads: st.threads }) + "\n");
      }
      if (w.keys && answered !== w.name) {
        answered = w.name;
        for (const k of w.keys) tmux("send-keys", "-t", session, ...k);
      }
      await new Promise((r) => setTimeout(r, every));
    }
  } finally {
    tmux("kill-session", "-t", session);
  }
  const code = readFileSync(exitFile, "utf8").trim();
  const [wall, user, sys, kb] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number) as [number, number, number, number];
  const load1 = loadavg()[0]!;
  console.log(
    `run ${rep}: exit ${code}, peak ${(kb / 1024).toFixed(1)} MB, wall ${wall.toFixed(1)} s, CPU ${(user + sys).toFixed(1)} s, load ${load0.toFixed(1)}→${load1.toFixed(1)}; ` +
      `sampled peak ${peak.rss.toFixed(0)} MB at ${peak.at.toFixed(1)} s on "${peak.name}" (${peak.threads} threads)`,
  );
  for (const [name, s] of seen) console.log(`  ${s.first.toFixed(1).padStart(6)} s  ${s.rss.toFixed(0).padStart(4)} MB  ${name}`);
  if (code !== "0") console.log(readFileSync(errFile, "utf8"));
  if (heaps && log && existsSync(heapLog)) appendFileSync(log, readFileSync(heapLog));
  rmSync(top, { recursive: true, force: true });
}

for (let i = 1; i <= reps; i++) await journey(i);

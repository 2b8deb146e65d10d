/**
 * npm run bench [-- --scale 0.05] [--reps 3] [--out bench/results.json] [--cache bench/.cache]
 * Generates (and caches) the benchmark database, then measures, side by side in one run, the
 * product's export, verify, import, cutover, rehearse and diagnose and the sqlite3 CLI's .dump,
 * .read (journal off and default), VACUUM INTO and cp. Wall time (min/median), rows/s, MB/s,
 * peak RSS (GNU time), and the ratios to the sqlite3 figures.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_TABLES, generateBenchDb, GENERATOR_VERSION } from "./generate.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "dist", "src", "cli", "main.js");

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const scale = Number(arg("scale", "1"));
const reps = Number(arg("reps", "3"));
const out = resolve(arg("out", join(ROOT, "bench", "results.json")));
const cacheDir = resolve(arg("cache", join(ROOT, "bench", ".cache")));
const work = resolve(arg("work", join(tmpdir(), `vox-cutover-bench-${process.pid}`)));
const HAS_TIME = existsSync("/usr/bin/time");

interface Sample {
  seconds: number;
  rssMb: number | null;
}

/** Runs a shell command under GNU time: wall seconds and peak RSS of the whole process tree's largest member. */
function measure(cmd: string, env: Record<string, string> = {}): Sample {
  const t0 = performance.now();
  const r = spawnSync("bash", ["-c", HAS_TIME ? `/usr/bin/time -f '__TIME__ %e %M' bash -c ${JSON.stringify(cmd)}` : cmd], { env: { ...process.env, ...env, CI: "" }, encoding: "utf8", maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 && !/__TIME__/.test(r.stderr)) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  const m = /__TIME__ ([\d.]+) (\d+)/.exec(r.stderr);
  if (/Command exited with non-zero status/.test(r.stderr)) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  return { seconds: wall, rssMb: m ? Number(m[2]) / 1024 : null };
}

interface Row {
  name: string;
  kind: "vox-cutover" | "sqlite3" | "os";
  min: number;
  median: number;
  rssMb: number | null;
  rowsPerSec: number | null;
  mbPerSec: number | null;
  samples: number[];
}

function bench(name: string, kind: Row["kind"], prepare: (() => void) | null, cmd: string, rows: number, bytes: number, env: Record<string, string> = {}): Row {
  const samples: Sample[] = [];
  for (let i = 0; i < reps; i++) {
    prepare?.();
    samples.push(measure(cmd, env));
    process.stderr.write(`  ${name}: ${samples.at(-1)!.seconds.toFixed(2)} s${samples.at(-1)!.rssMb ? `, ${samples.at(-1)!.rssMb!.toFixed(0)} MB` : ""}\n`);
  }
  const secs = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const median = secs[Math.floor(secs.length / 2)]!;
  const rss = samples.map((s) => s.rssMb ?? 0);
  return { name, kind, min: secs[0]!, median, rssMb: HAS_TIME ? Math.max(...rss) : null, rowsPerSec: rows ? rows / median : null, mbPerSec: bytes ? bytes / 1e6 / median : null, samples: secs };
}

function q(p: string): string {
  return `'${p.replace(/'/g, "'\\''")}'`;
}

async function main() {
  mkdirSync(cacheDir, { recursive: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cached = join(cacheDir, `bench-v${GENERATOR_VERSION}-scale${scale}.db`);
  let rows: number;
  if (!existsSync(cached)) {
    process.stderr.write(`generating the benchmark database (scale ${scale}) → ${cached}\n`);
    const tmp = cached + ".tmp";
    rmSync(tmp, { force: true });
    const t0 = performance.now();
    generateBenchDb(tmp, scale, (t, d, n) => process.stderr.write(`\r  ${t} ${d}/${n}   `));
    renameSync(tmp, cached);
    process.stderr.write(`\n  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  rows = Number(execFileSync("sqlite3", [cached, `SELECT sum(n) FROM (${BENCH_TABLES.map((t) => `SELECT count(*) AS n FROM ${t}`).join(" UNION ALL ")})`]).toString().trim());
  const src = join(work, "src.db");
  copyFileSync(cached, src);
  const bytes = statSync(src).size;
  const sqliteVersion = execFileSync("sqlite3", ["--version"]).toString().split(" ")[0];
  process.stderr.write(`database: ${(bytes / 1e6).toFixed(0)} MB, ${rows} rows; ${cpus().length} cores; node ${process.version}; sqlite3 ${sqliteVersion}; ${reps} repetitions\n`);
  const dump = join(work, "dump.sql");
  const results: Row[] = [];
  const fresh = (p: string) => () => {
    for (const s of ["", "-wal", "-shm", "-journal"]) rmSync(p + s, { force: true });
  };
  const node = `node ${q(BIN)}`;
  results.push(bench("cp", "os", fresh(join(work, "cp.db")), `cp ${q(src)} ${q(join(work, "cp.db"))}`, rows, bytes));
  results.push(bench("sqlite3 VACUUM INTO", "sqlite3", fresh(join(work, "vac.db")), `sqlite3 ${q(src)} "VACUUM INTO '${join(work, "vac.db")}'"`, rows, bytes));
  results.push(bench("sqlite3 .dump", "sqlite3", () => rmSync(dump, { force: true }), `sqlite3 ${q(src)} .dump > ${q(dump)}`, rows, bytes));
  results.push(bench("sqlite3 .read (journal off)", "sqlite3", fresh(join(work, "read.db")), `(echo 'PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;'; echo '.read ${dump}') | sqlite3 ${q(join(work, "read.db"))}`, rows, bytes));
  results.push(bench("sqlite3 .read (default)", "sqlite3", fresh(join(work, "read2.db")), `sqlite3 ${q(join(work, "read2.db"))} '.read ${dump}'`, rows, bytes));
  const backup = join(work, "backup.jsonl");
  results.push(bench("export-legacy", "vox-cutover", () => rmSync(backup, { force: true }), `${node} export-legacy ${q(backup)} --db ${q(src)} > /dev/null`, rows, bytes));
  results.push(bench("verify-backup (hashes)", "vox-cutover", null, `${node} verify-backup ${q(backup)} --db ${q(join(work, "none.db"))} > /dev/null`, rows, bytes));
  results.push(bench("verify-backup --db (vs live)", "vox-cutover", null, `${node} verify-backup ${q(backup)} --db ${q(src)} > /dev/null`, rows, bytes));
  const imp = join(work, "imported.db");
  results.push(bench("import-legacy --apply", "vox-cutover", fresh(imp), `${node} import-legacy ${q(backup)} --db ${q(imp)} --apply > /dev/null`, rows, bytes));
  const cut = join(work, "cut", "vox.db");
  results.push(
    bench("cutover --apply", "vox-cutover", () => {
      rmSync(join(work, "cut"), { recursive: true, force: true });
      mkdirSync(join(work, "cut"));
      copyFileSync(src, cut);
    }, `${node} cutover --db ${q(cut)} --apply > /dev/null`, rows, bytes),
  );
  results.push(bench("rehearse", "vox-cutover", () => rmSync(join(work, "reh"), { recursive: true, force: true }), `${node} rehearse --db ${q(src)} --work-dir ${q(join(work, "reh"))} > /dev/null`, rows, bytes));
  results.push(bench("diagnose", "vox-cutover", null, `${node} diagnose --db ${q(src)} > /dev/null`, 0, 0));
  results.push(bench("--version (startup)", "vox-cutover", null, `${node} --version > /dev/null`, 0, 0));
  results.push(bench("wizard modules (import ink, react, App)", "vox-cutover", null, `cd ${q(ROOT)} && node --input-type=module -e "await Promise.all([import('ink'), import('react'), import('./dist/src/ui/App.js')]);"`, 0, 0));
  const by = (n: string) => results.find((r) => r.name === n)!.median;
  const ratios = {
    exportVsDump: by("export-legacy") / by("sqlite3 .dump"),
    importVsReadJournalOff: by("import-legacy --apply") / by("sqlite3 .read (journal off)"),
    cutoverVsDumpPlusRead: by("cutover --apply") / (by("sqlite3 .dump") + by("sqlite3 .read (journal off)")),
    diagnoseSeconds: by("diagnose"),
  };
  const w = Math.max(...results.map((r) => r.name.length));
  const lines = [
    `vox-cutover bench — ${(bytes / 1e6).toFixed(0)} MB, ${rows.toLocaleString("en-US")} rows (scale ${scale}), ${cpus().length} cores, node ${process.version}, sqlite3 ${sqliteVersion}, ${reps} reps`,
    "",
    `${"what".padEnd(w)}  ${"min s".padStart(7)}  ${"median s".padStart(8)}  ${"rows/s".padStart(10)}  ${"MB/s".padStart(7)}  ${"peak RSS MB".padStart(11)}`,
    ...results.map((r) => `${r.name.padEnd(w)}  ${r.min.toFixed(2).padStart(7)}  ${r.median.toFixed(2).padStart(8)}  ${r.rowsPerSec ? Math.round(r.rowsPerSec).toLocaleString("en-US").padStart(10) : "".padStart(10)}  ${r.mbPerSec ? r.mbPerSec.toFixed(0).padStart(7) : "".padStart(7)}  ${r.rssMb !== null ? r.rssMb.toFixed(0).padStart(11) : "n/a".padStart(11)}`),
    "",
    `export / sqlite3 .dump                     = ${ratios.exportVsDump.toFixed(2)}×  (target ≤ 2)`,
    `import / sqlite3 .read (journal off)       = ${ratios.importVsReadJournalOff.toFixed(2)}×  (target ≤ 1.3)`,
    `cutover / (.dump + .read journal off)      = ${ratios.cutoverVsDumpPlusRead.toFixed(2)}×  (target ≤ 2.5)`,
    `diagnose                                   = ${ratios.diagnoseSeconds.toFixed(2)} s  (target < 1 s)`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  writeFileSync(out, JSON.stringify({ scale, bytes, rows, cores: cpus().length, node: process.version, sqlite3: sqliteVersion, reps, results, ratios, at: new Date().toISOString() }, null, 2) + "\n");
  process.stderr.write(`results: ${out}\n`);
  rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
  process.exitCode = 1;
});

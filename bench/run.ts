/**
 * npm run bench [-- --size 150MB] [--reps 1] [--out FILE] [--cache DIR] [--only export-legacy,verify-backup]
 *
 * Builds (and caches in bench/.cache/) a legacy vox file the way real ones look (bench/generate.ts:
 * vox 60's DDL, ad-hoc migrations, FTS with vox's triggers, TEXT keys, integers beyond 2^53, the
 * sample filler's value mix in every other table), then times side by side in ONE run the anchors —
 * `sqlite3 .dump`, the native rebuild (vox 66's DDL, ATTACH, INSERT … SELECT, one transaction, FTS
 * rebuilt: what a DBA writes by hand), `sqlite3 .read` of the dump — and the product: export-legacy,
 * verify-backup --db, import-legacy --apply, cutover dry-run, cutover --apply (with its phase
 * split), the apply of a dry-run's plan (adopting its export and build), each with peak RSS; plus a ~1 MB file's whole `cutover --apply` and the wizard's first
 * frame. Prints the table with the ratios to the anchors and writes bench/last-run.json (not kept in git);
 * `--out bench/results.json` records the run the README's table shows.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { Bench, type Row } from "./measure.js";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generateBenchDb, GENERATOR_VERSION } from "./generate.js";
import { nativeRebuildScript } from "./native.js";
import { shellQuote } from "../src/util/shell.js";
import { freshBundle } from "../src/util/bundle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "dist", "src", "cli", "main.js");
/** Bytes of the generated file at scale 1 (measured): --size picks the scale from it. */
const BYTES_AT_SCALE_1 = 1.04e9;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

/** "150MB", "1GB", "600 MB", "2e8" → bytes. */
export function parseSize(s: string): number {
  const m = /^\s*([\d.]+(?:e\d+)?)\s*(k|m|g)?i?b?\s*$/i.exec(s);
  if (!m) throw new Error(`--size: cannot read "${s}" (e.g. 150MB, 1GB)`);
  const mult = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 1;
  return Number(m[1]) * mult;
}

const scale = process.argv.includes("--scale") ? Number(arg("scale", "0.02")) : parseSize(arg("size", "20MB")) / BYTES_AT_SCALE_1;
const reps = Number(arg("reps", "1"));
const only = arg("only", "") ? new Set(arg("only", "").split(",")) : null;

/** Every row the bench can print, in run order: `--only` takes a row's first word or its whole name. */
const ROWS = [
  "sqlite3 .dump",
  "native rebuild",
  "sqlite3 .read (journal off)",
  "export-legacy",
  "verify-backup --db",
  "import-legacy --apply",
  "cutover dry-run",
  "cutover --apply",
  "cutover --apply after its dry-run",
  "1 MB: cutover --apply",
  "wizard first frame",
] as const;
type RowName = (typeof ROWS)[number];
const selected = (name: RowName) => !only || only.has(name) || only.has(name.split(" ")[0]!);
// An --only that names no row would run nothing and print a table of nothing: refused before any work.
const unknown = only ? [...only].filter((o) => !ROWS.some((r) => r === o || r.split(" ")[0] === o)) : [];
if (unknown.length) {
  process.stderr.write(
    `--only: no benchmark row is named ${unknown.map((u) => JSON.stringify(u)).join(", ")}. Nothing was run.\n` +
      `Give a row's first word or its whole name, comma-separated: ${ROWS.map((r) => JSON.stringify(r)).join(", ")}.\n`,
  );
  process.exit(2);
}
/**
 * The one-file builds the product runs from (src/cli/main.ts, src/util/bundle.ts): a `tsc` build after
 * them — a bare `tsc -b`, or `tsc --noEmit`, which rewrites the build info — makes every command and the
 * wizard run from the ~140 compiled modules instead (the 1 MB apply ~2.4 s, the first frame ~0.7 s):
 * not the product as installed. `npm run bench` builds first; the bench refuses to start on stale bundles
 * and says so if they went stale while it ran. VOX_CUTOVER_BENCH_BUILD_INFO (test hook): another build info.
 */
const BUNDLES = ["src/cli/program.bundle.js", "src/ui/start.bundle.js"].map((b) => join(ROOT, "dist", b));
const BUILD_INFO = process.env.VOX_CUTOVER_BENCH_BUILD_INFO ? pathToFileURL(process.env.VOX_CUTOVER_BENCH_BUILD_INFO) : undefined;
const staleBundles = () => BUNDLES.filter((b) => !freshBundle(pathToFileURL(b), BUILD_INFO));
const staleAtStart = staleBundles();
if (staleAtStart.length) {
  process.stderr.write(
    `A tsc build came after the product's one-file builds (${staleAtStart.join(", ")}): the commands would run from the compiled modules, slower than the product as installed. Nothing was run.\n` +
      "Run `npm run build` (npm run bench does), then the bench again.\n",
  );
  process.exit(2);
}

// The recorded run (bench/results.json, the README's) is written only when asked for: a run of another size or state does not replace it.
const out = resolve(arg("out", join(ROOT, "bench", "last-run.json")));
const cacheDir = resolve(arg("cache", join(ROOT, "bench", ".cache")));
const work = resolve(arg("work", join(tmpdir(), `vox-cutover-bench-${process.pid}`)));
/** A cached generated file of this generator version and scale. */
function cachedDb(sc: number): string {
  const cached = join(cacheDir, `bench-v${GENERATOR_VERSION}-scale${sc.toPrecision(3)}.db`);
  if (!existsSync(cached)) {
    process.stderr.write(`generating the benchmark database (scale ${sc.toPrecision(3)}) → ${cached}\n`);
    const tmp = cached + ".tmp";
    rmSync(tmp, { force: true });
    const t0 = performance.now();
    generateBenchDb(tmp, sc, (t, d, n) => process.stderr.write(`\r  ${t} ${d}/${n}      `));
    renameSync(tmp, cached);
    process.stderr.write(`\n  generated in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return cached;
}

function countRows(db: string): { rows: number; tables: number } {
  const names = execFileSync("sqlite3", [
    db,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT GLOB '*_fts_*'",
  ])
    .toString()
    .trim()
    .split("\n");
  const sum = execFileSync("sqlite3", [db, `SELECT ${names.map((n) => `(SELECT count(*) FROM "${n}")`).join(" + ")}`])
    .toString()
    .trim();
  return { rows: Number(sum), tables: names.length };
}

/** The cutover's step durations (seconds) from the report.json its work dir holds. */
function phasesOf(workDir: string): Record<string, number> {
  const r = JSON.parse(readFileSync(join(workDir, "report.json"), "utf8")) as { steps: { id: string; durationMs?: number }[]; durationMs: number };
  const out: Record<string, number> = {};
  let named = 0;
  for (const s of r.steps) {
    if (s.durationMs === undefined) continue;
    if (["export", "verify-backup", "build-import"].includes(s.id)) {
      out[s.id] = s.durationMs / 1000;
      named += s.durationMs;
    }
  }
  out["other steps"] = (r.durationMs - named) / 1000;
  return out;
}

/**
 * The wizard's first frame in a pseudo-terminal: seconds to the first byte and to Ink's first
 * render (the first output after the placeholder line is cleared). The process is then ended.
 */
function wizardFirstFrame(db: string): { firstByte: number; firstFrame: number } {
  const r = spawnSync("python3", [join(ROOT, "test", "fixtures", "pty-wizard.py"), BIN, db, "--timeout", "30", "--drain", "10"], {
    env: { ...process.env, TMPDIR: work, TERM: "xterm-256color", COLUMNS: "120", LINES: "40" },
    encoding: "utf8",
  });
  const [a, b] = (r.stdout.split("\n")[0] ?? "").trim().split(/\s+/).map(Number);
  return { firstByte: a ?? -1, firstFrame: b ?? -1 };
}

/** The highest peak RSS of the product's rows (none ran, or no GNU time: said so, never -Infinity). */
function peakLine(rows: Row[]): string {
  const peaks = rows.filter((r) => r.kind === "vox-cutover" && r.rssMb !== null).map((r) => r.rssMb!);
  return peaks.length
    ? `peak RSS of any product command: ${Math.max(...peaks).toFixed(0)} MB (goal ≤ 200)`
    : "peak RSS of any product command: not measured (no product command ran, or /usr/bin/time is missing)";
}

/**
 * NODE_EXTRA_CA_CERTS names a CA file every Node process reads and parses as it starts: ~40 ms of CPU
 * and of wall here (session 34: the wizard's first frame 0.27 → 0.23 s, `node -e 0` 0.11 → 0.07 CPU-s).
 * A machine's setting for its TLS connections (this sandbox sets it for its egress proxy), none of
 * which a local cutover makes: the bench runs everything without it, and its table and results say so.
 */
const droppedEnv = ["NODE_EXTRA_CA_CERTS"].filter((k) => process.env[k] !== undefined);
for (const k of droppedEnv) delete process.env[k];

async function main() {
  mkdirSync(cacheDir, { recursive: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cached = cachedDb(scale);
  const { rows, tables } = countRows(cached);
  const src = join(work, "src.db");
  copyFileSync(cached, src);
  const bytes = statSync(src).size;
  const sqliteVersion = execFileSync("sqlite3", ["--version"]).toString().split(" ")[0];
  const load0 = loadavg()[0]!;
  process.stderr.write(
    `database: ${(bytes / 1e6).toFixed(0)} MB, ${tables} tables, ${rows} rows; ${cpus().length} cores, load ${load0.toFixed(1)}; node ${process.version}; sqlite3 ${sqliteVersion}; ${reps} repetition(s)\n`,
  );
  // The product as its bin runs it: main.ts's launch line (its young-generation size and MALLOC_ARENA_MAX).
  const node = `sh ${shellQuote(BIN)}`;
  const fresh = (p: string) => () => {
    for (const s of ["", "-wal", "-shm", "-journal"]) rmSync(p + s, { force: true });
  };

  // Every row reads the file from the page cache: read once here, or the first row alone pays the disk
  // (a file evicted by an earlier run made the .dump anchor 1.44 s wall for 0.98 s of CPU, against 0.38 warm).
  execFileSync("bash", ["-c", `sync; cat ${shellQuote(src)} > /dev/null`]);
  const b = new Bench(reps, work, (n) => selected(n as RowName));
  const bench = b.row.bind(b);
  // Anchors: what SQLite itself needs (each product row's repetitions are also paired with them: bench/measure.ts).
  const dump = join(work, "dump.sql");
  const noDump = () => rmSync(dump, { force: true });
  b.anchor("sqlite3 .dump", noDump, `sqlite3 ${shellQuote(src)} .dump > ${shellQuote(dump)}`, noDump);
  const script = join(work, "native.sql");
  writeFileSync(script, nativeRebuildScript(src));
  const nat = join(work, "native.db");
  b.anchor("native rebuild", fresh(nat), `sqlite3 ${shellQuote(nat)} < ${shellQuote(script)}`, fresh(nat));
  const DUMP = { pairedWith: ["sqlite3 .dump"] };
  const BOTH = { pairedWith: ["sqlite3 .dump", "native rebuild"] };
  if (existsSync(dump))
    bench(
      "sqlite3 .read (journal off)",
      "sqlite3",
      fresh(join(work, "read.db")),
      `(echo 'PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;'; echo '.read ${dump}') | sqlite3 ${shellQuote(join(work, "read.db"))}`,
    );
  rmSync(dump, { force: true });

  // The product.
  const backup = join(work, "backup.jsonl");
  bench(
    "export-legacy",
    "vox-cutover",
    () => rmSync(backup, { force: true }),
    `${node} export-legacy ${shellQuote(backup)} --db ${shellQuote(src)} > /dev/null`,
    DUMP,
  );
  if (!existsSync(backup)) execFileSync("node", [BIN, "export-legacy", backup, "--db", src], { stdio: "ignore" });
  bench("verify-backup --db", "vox-cutover", null, `${node} verify-backup ${shellQuote(backup)} --db ${shellQuote(src)} > /dev/null`, DUMP);
  const imp = join(work, "imported.db");
  bench("import-legacy --apply", "vox-cutover", fresh(imp), `${node} import-legacy ${shellQuote(backup)} --db ${shellQuote(imp)} --apply > /dev/null`, {
    pairedWith: ["native rebuild"],
  });
  fresh(imp)();
  rmSync(backup, { force: true });
  const cutDir = join(work, "cut");
  const cut = join(cutDir, "vox.db");
  const cutWork = join(work, "cut-work");
  const freshCut = () => {
    rmSync(cutDir, { recursive: true, force: true });
    rmSync(cutWork, { recursive: true, force: true });
    // A dry-run's kept trial (src/engine/kept-trial.ts, in the commands' TMPDIR) is adopted only by the row that says so.
    for (const f of readdirSync(work)) if (f.startsWith("vox-cutover-trial-")) rmSync(join(work, f), { recursive: true, force: true });
    mkdirSync(cutDir);
    copyFileSync(src, cut);
  };
  bench("cutover dry-run", "vox-cutover", freshCut, `${node} cutover --db ${shellQuote(cut)} > /dev/null`, BOTH);
  bench("cutover --apply", "vox-cutover", freshCut, `${node} cutover --db ${shellQuote(cut)} --work-dir ${shellQuote(cutWork)} --apply > /dev/null`, {
    ...BOTH,
    after: () => phasesOf(cutWork),
  });
  // The operator's way: the dry-run (not timed), then the apply of its plan, which adopts the dry-run's export and build.
  let planned = "";
  bench(
    "cutover --apply after its dry-run",
    "vox-cutover",
    () => {
      freshCut();
      const dry = JSON.parse(
        execFileSync("bash", ["-c", `${node} cutover --db ${shellQuote(cut)} --json`], {
          env: { ...process.env, TMPDIR: work },
          maxBuffer: 1 << 28,
        }).toString(),
      );
      planned = String(dry.planDigest);
    },
    `${node} cutover --db ${shellQuote(cut)} --work-dir ${shellQuote(cutWork)} --apply --plan "$VOX_BENCH_PLAN" > /dev/null`,
    { ...BOTH, after: () => phasesOf(cutWork), env: () => ({ VOX_BENCH_PLAN: planned }) },
  );
  rmSync(cutDir, { recursive: true, force: true });
  rmSync(cutWork, { recursive: true, force: true });

  // A small file: start-up costs dominate.
  const smallSrc = cachedDb(0.001);
  const smallBytes = statSync(smallSrc).size;
  const small = join(work, "small", "vox.db");
  const smallWork = join(work, "small-work");
  bench(
    "1 MB: cutover --apply",
    "vox-cutover",
    () => {
      rmSync(dirname(small), { recursive: true, force: true });
      rmSync(smallWork, { recursive: true, force: true });
      mkdirSync(dirname(small));
      copyFileSync(smallSrc, small);
    },
    `${node} cutover --db ${shellQuote(small)} --work-dir ${shellQuote(smallWork)} --apply > /dev/null`,
  );
  let wizard: { firstByte: number; firstFrame: number } | null = null;
  if (selected("wizard first frame")) {
    rmSync(dirname(small), { recursive: true, force: true });
    mkdirSync(dirname(small), { recursive: true });
    copyFileSync(smallSrc, small);
    const ws = Array.from({ length: Math.max(reps, 3) }, () => wizardFirstFrame(small)).sort((a, b) => a.firstFrame - b.firstFrame);
    wizard = ws[Math.floor(ws.length / 2)]!;
    process.stderr.write(`  wizard first frame: ${wizard.firstFrame.toFixed(2)} s (first byte ${wizard.firstByte.toFixed(2)} s)\n`);
  }

  const by = (n: string) => b.results.find((r) => r.name === n)?.median ?? NaN;
  const cpuOf = (n: string) => b.results.find((r) => r.name === n)?.cpu ?? NaN;
  /** "paired ratio ×, medians wall ratio × (CPU ratio ×)" to the anchor(s) (bench/measure.ts: paired). */
  const vs = (n: string, anchors: string[]) => {
    const w = by(n) / anchors.reduce((a, x) => a + by(x), 0);
    const c = cpuOf(n) / anchors.reduce((a, x) => a + cpuOf(x), 0);
    const paired = b.results.find((r) => r.name === n)?.paired;
    const medians = Number.isFinite(w)
      ? `${w.toFixed(1)} ×${Number.isFinite(c) ? ` (CPU ${c.toFixed(1)} ×)` : ""}`
      : `anchor row not run (${anchors.join(" + ")})`;
    return paired ? `paired ${paired.median.toFixed(1)} ×, medians ${medians}` : medians;
  };
  const ratio: Record<string, string> = {
    "sqlite3 .dump": "anchor: every row read out",
    "native rebuild": "anchor: what a DBA writes by hand",
    "export-legacy": `${vs("export-legacy", ["sqlite3 .dump"])} .dump (goal ≤ 1.5)`,
    "verify-backup --db": `${vs("verify-backup --db", ["sqlite3 .dump"])} .dump (goal ≤ 1.5)`,
    "import-legacy --apply": `${vs("import-legacy --apply", ["native rebuild"])} native rebuild`,
    "cutover dry-run": `${vs("cutover dry-run", ["sqlite3 .dump", "native rebuild"])} (.dump + native) (goal ≤ 1.5)`,
    "cutover --apply": `${vs("cutover --apply", ["sqlite3 .dump", "native rebuild"])} (.dump + native) (goal ≤ 2.5)`,
    "cutover --apply after its dry-run": `${vs("cutover --apply after its dry-run", ["sqlite3 .dump", "native rebuild"])} (.dump + native) (goal ≤ 2.5): adopts the dry-run's export and build`,
    "1 MB: cutover --apply": `goal ≤ 1.5 s (file ${(smallBytes / 1e6).toFixed(1)} MB)`,
  };
  const w = Math.max(...b.results.map((r) => r.name.length), 20);
  const fmtPhases = (p?: Record<string, number>) =>
    p
      ? `  (${Object.entries(p)
          .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
          .join(", ")})`
      : "";
  const stale = staleBundles(); // looked at once, for the table, the results and the exit code alike
  const lines = [
    `vox-cutover bench — ${(bytes / 1e6).toFixed(0)} MB legacy file (vox 60 + ad-hoc), ${tables} tables, ${rows.toLocaleString("en-US")} rows, scale ${scale.toPrecision(3)}; ${cpus().length} cores, load at start ${load0.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)}; node ${process.version}; sqlite3 ${sqliteVersion}; ${reps} rep(s), median${droppedEnv.length ? `; run without ${droppedEnv.join(", ")} (~40 ms a Node start)` : ""}`,
    "",
    `| ${"work".padEnd(w)} | ${"time s".padStart(7)} | ${"CPU s".padStart(6)} | ${"peak RSS MB".padStart(11)} | ratio: wall (CPU) |`,
    `|${"-".repeat(w + 2)}|${"-".repeat(8)}:|${"-".repeat(7)}:|${"-".repeat(12)}:|---|`,
    ...b.results.map(
      (r) =>
        `| ${r.name.padEnd(w)} | ${r.median.toFixed(2).padStart(7)} | ${(r.cpu !== null ? r.cpu.toFixed(2) : "").padStart(6)} | ${r.kind === "vox-cutover" && r.rssMb !== null ? r.rssMb.toFixed(0).padStart(11) : "".padStart(11)} | ${ratio[r.name] ?? ""}${fmtPhases(r.phases)} |`,
    ),
    ...(wizard
      ? [
          `| ${"wizard first frame".padEnd(w)} | ${wizard.firstFrame.toFixed(2).padStart(7)} | ${"".padStart(6)} | ${"".padStart(11)} | goal ≤ 0.3 s (first byte ${wizard.firstByte.toFixed(2)} s) |`,
        ]
      : []),
    "",
    "paired: the median over repetitions of each one's time divided by its anchors' run just before it (one machine state); medians: the row's median over the anchor rows' medians, timed minutes apart.",
    peakLine(b.results),
    ...(stale.length
      ? [
          `WARNING: a tsc build during the run made the product's one-file builds stale (${stale.join(", ")}): the rows measured after it ran from the compiled modules. Run \`npm run bench\` again.`,
        ]
      : []),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  writeFileSync(
    out,
    JSON.stringify(
      {
        scale,
        bytes,
        tables,
        rows,
        cores: cpus().length,
        load: [load0, loadavg()[0]],
        node: process.version,
        droppedEnv,
        sqlite3: sqliteVersion,
        reps,
        results: b.results,
        wizard,
        smallBytes,
        bundlesFresh: stale.length === 0,
        at: new Date().toISOString(),
      },
      null,
      2,
    ) + "\n",
  );
  process.stderr.write(`results: ${out}\n`);
  rmSync(work, { recursive: true, force: true });
  if (stale.length) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
  rmSync(work, { recursive: true, force: true });
  process.exitCode = 1;
});

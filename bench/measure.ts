/**
 * How bench/run.ts times a row: each run of a shell command under GNU time (wall, CPU, peak RSS), its
 * repetitions and median, and — for a product row with anchors — each repetition's own anchors run
 * right before it (`paired`).
 *
 * Why paired: this machine moves between states within minutes (the 150 MB `.dump` 0.50 s by hand,
 * 1.51 s inside a whole run a minute earlier: docs/benchmark.md, "Session 29"), and the anchors run
 * first, the product rows up to minutes later, so a row's ratio to the anchors' medians can be off by
 * the state's factor either way. A paired ratio divides each repetition by the anchors timed just before
 * it, in the same state; the row reports their median beside the ratio of the medians.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { shellQuote } from "../src/util/shell.js";

const HAS_TIME = existsSync("/usr/bin/time");

interface Sample {
  seconds: number;
  /** User + system CPU seconds of the command's processes (every thread): far less sensitive to a shared machine's load than wall time. */
  cpu: number | null;
  /** Of it, system time (the kernel's: writing files, faulting pages in), which this machine's state moves the most. */
  sys: number | null;
  rssMb: number | null;
}

/** Runs a shell command under GNU time: wall seconds and the peak RSS of its largest process. `work`: the commands' TMPDIR. */
function measure(cmd: string, work: string, env: Record<string, string> = {}): Sample {
  const t0 = performance.now();
  // Product commands keep their scratch files (trial import, wizard template) inside the bench's folder.
  const r = spawnSync("bash", ["-c", HAS_TIME ? `/usr/bin/time -f '__TIME__ %e %M %U %S' bash -c ${shellQuote(cmd)}` : cmd], {
    env: { ...process.env, ...env, CI: "", TMPDIR: work },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 || /Command exited with non-zero status/.test(r.stderr)) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /__TIME__ ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { seconds: wall, cpu: m ? Number(m[3]) + Number(m[4]) : null, sys: m ? Number(m[4]) : null, rssMb: m ? Number(m[2]) / 1024 : null };
}

/** Each repetition of a product row divided by the sum of its anchors timed right before it. */
export interface Paired {
  anchors: string[];
  /** Per repetition: each anchor's run (in `anchors`' order), their seconds summed, and the row's seconds divided by that. */
  runs: Sample[][];
  anchorSeconds: number[];
  ratios: number[];
  median: number;
}

export interface Row {
  name: string;
  kind: "vox-cutover" | "anchor" | "sqlite3";
  median: number;
  min: number;
  /** CPU seconds of the median run, and of them system time. */
  cpu: number | null;
  sys: number | null;
  rssMb: number | null;
  samples: number[];
  /** Seconds per phase (cutover --apply), median run. */
  phases?: Record<string, number>;
  paired?: Paired;
}

/** An anchor as a repetition's pair runs it: made ready, timed, and what it wrote removed (a 1 GB file's `.dump` writes 1.2 GB). */
interface Anchor {
  prepare: (() => void) | null;
  cmd: string;
  cleanup: () => void;
}

interface RowOptions {
  /** After each run: seconds per phase (the cutover's report). */
  after?: () => Record<string, number>;
  /** Before each run: environment for the command. */
  env?: () => Record<string, string>;
  /** Anchors (registered with `anchor`) timed right before each repetition: the row gets `paired`. */
  pairedWith?: string[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export class Bench {
  readonly results: Row[] = [];
  private readonly anchors = new Map<string, Anchor>();
  constructor(
    private readonly reps: number,
    private readonly work: string,
    private readonly selected: (name: string) => boolean,
  ) {}

  /** An anchor row (the median of at least 3), also registered for the product rows' pairs whether or not its own row is selected. */
  anchor(name: string, prepare: (() => void) | null, cmd: string, cleanup: () => void = () => {}): Row | null {
    this.anchors.set(name, { prepare, cmd, cleanup });
    return this.row(name, "anchor", prepare, cmd);
  }

  row(name: string, kind: Row["kind"], prepare: (() => void) | null, cmd: string, opts: RowOptions = {}): Row | null {
    if (!this.selected(name)) return null;
    const samples: (Sample & { phases?: Record<string, number> })[] = [];
    const paired: Paired | undefined = opts.pairedWith ? { anchors: opts.pairedWith, runs: [], anchorSeconds: [], ratios: [], median: NaN } : undefined;
    // An anchor is the median of at least 3: its first run after the file's fresh copy has paid up to 2 × in system time (writing its output) on this machine.
    for (let i = 0; i < (kind === "anchor" ? Math.max(this.reps, 3) : this.reps); i++) {
      prepare?.();
      const runs = paired ? this.timeAnchors(paired.anchors) : [];
      const before = runs.reduce((a, r) => a + r.seconds, 0);
      // What the preparation wrote (a fresh copy of the file: up to 1 GB) is on disk before the clock starts, not written back under the command timed.
      execFileSync("sync");
      const s: Sample & { phases?: Record<string, number> } = measure(cmd, this.work, opts.env?.());
      if (opts.after) s.phases = opts.after();
      samples.push(s);
      if (paired) {
        paired.runs.push(runs);
        paired.anchorSeconds.push(before);
        paired.ratios.push(s.seconds / before);
      }
      process.stderr.write(
        `  ${name}: ${s.seconds.toFixed(2)} s${s.cpu !== null ? ` (CPU ${s.cpu.toFixed(2)} s, system ${s.sys!.toFixed(2)})` : ""}${s.rssMb ? `, ${s.rssMb.toFixed(0)} MB` : ""}${paired ? `; its anchors just before ${before.toFixed(2)} s: ${(s.seconds / before).toFixed(2)} ×` : ""}\n`,
      );
    }
    const sorted = [...samples].sort((a, b) => a.seconds - b.seconds);
    const med = sorted[Math.floor(sorted.length / 2)]!;
    const row: Row = {
      name,
      kind,
      median: med.seconds,
      min: sorted[0]!.seconds,
      cpu: med.cpu,
      sys: med.sys,
      rssMb: HAS_TIME ? Math.max(...samples.map((s) => s.rssMb ?? 0)) : null,
      samples: samples.map((s) => s.seconds),
    };
    if (med.phases) row.phases = med.phases;
    if (paired) row.paired = { ...paired, median: median(paired.ratios) };
    this.results.push(row);
    return row;
  }

  /** One run of each named anchor, as its row runs it. */
  private timeAnchors(names: string[]): Sample[] {
    const runs: Sample[] = [];
    for (const n of names) {
      const a = this.anchors.get(n);
      if (!a) throw new Error(`bench: anchor "${n}" is not registered before the rows paired with it`);
      a.prepare?.();
      execFileSync("sync");
      runs.push(measure(a.cmd, this.work));
      a.cleanup();
    }
    return runs;
  }
}

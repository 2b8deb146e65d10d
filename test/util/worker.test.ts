/**
 * main.ts's launch line (the bin, `npm start`) gives the main thread a small young generation
 * (`node --max-semi-space-size=…`, issue 18's peak RSS), and an operator may start node with V8
 * options of their own. Node refuses a V8 option in a worker's execArgv, so every worker thread is
 * started with workerExecArgv(), which leaves them out and keeps Node's own options.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { workerExecArgv } from "../../src/util/worker.js";
import { BIN, cleanEnv, NODE_ARGS, ROOT, sampleInto, sqlite, tmp } from "../helpers.js";

/**
 * With this process's execArgv set to `given`: a worker given it as it is is refused, one given
 * workerExecArgv() starts and answers. Returns what workerExecArgv() gave.
 */
async function refusedAsIsStartedWithout(given: string[]): Promise<string[]> {
  const saved = process.execArgv;
  process.execArgv = given;
  try {
    expect(() => new Worker("", { eval: true, execArgv: process.execArgv })).toThrow(/execArgv/); // inherited as it is: refused
    const w = new Worker("require('node:worker_threads').parentPort.postMessage('up')", { eval: true, execArgv: workerExecArgv() });
    expect((await once(w, "message"))[0]).toBe("up");
    await w.terminate();
    return workerExecArgv();
  } finally {
    process.execArgv = saved;
  }
}

describe("workerExecArgv", () => {
  it("starts a worker in a process started as main.ts's launch line starts it", async () => {
    // Every option the launch line gives node (between `exec node` and `--`), as a command gets them.
    const launch = readFileSync(join(ROOT, "dist", "src", "cli", "main.js"), "utf8").split("\n")[1]!;
    const options = /exec node (.*?) -- /.exec(launch)?.[1]?.replaceAll("$s", "4").split(" ");
    expect(options, launch).toBeDefined();
    expect(options).toContain("--max-semi-space-size=4");
    await refusedAsIsStartedWithout([...process.execArgv, ...options!]);
  });

  it("leaves out V8's options (with a value given apart too) and keeps Node's own, each with its value", async () => {
    const preload = join(ROOT, "test", "fixtures", "no-opt.cjs");
    const given = [
      "--max-old-space-size=4096",
      "--no-opt",
      "--require",
      preload,
      "--stack-trace-limit",
      "30",
      "--no-warnings",
      "-e",
      "1",
      "--input-type=module",
    ];
    expect(await refusedAsIsStartedWithout(given)).toEqual(["--require", preload, "--no-warnings"]);
  });

  it("a cutover started by `node` with V8 options of the operator's starts every worker and finishes (was: 'Unexpected failure' at the first)", async () => {
    const { db } = await sampleInto(tmp("vox-v8-options-"), 10);
    // Every worker the apply can start, forced at this size.
    const workers = {
      VOX_CUTOVER_WRITER_WORKER_BYTES: "0",
      VOX_CUTOVER_INTEGRITY_PARTS_BYTES: "0",
      VOX_CUTOVER_PROOF_WORKER_BYTES: "0",
      VOX_CUTOVER_CHECKS_BESIDE_BYTES: "0",
      VOX_CUTOVER_HASH_BESIDE_BYTES: "0",
      VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES: "0",
    };
    const r = await execa("node", ["--max-old-space-size=4096", "--stack-trace-limit=30", ...NODE_ARGS, BIN, "cutover", "--db", db, "--apply"], {
      env: cleanEnv(workers),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/execArgv|Unexpected failure/);
    expect(sqlite(db, "SELECT max(version) FROM schema_version")).toBe("66");
  });
});

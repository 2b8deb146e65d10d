/**
 * main.ts's launch line (the bin, `npm start`) gives the main thread a small young generation
 * (`node --max-semi-space-size=…`, issue 18's peak RSS). Node refuses a V8 heap option in a worker's
 * execArgv, so every worker thread is started with workerExecArgv(), which leaves it out.
 */
import { describe, expect, it } from "vitest";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { workerExecArgv } from "../../src/util/worker.js";
import { ROOT } from "../helpers.js";

describe("workerExecArgv", () => {
  it("starts a worker in a process started as main.ts's launch line starts it", async () => {
    // Every option the launch line gives node (between `exec node` and `--`), as a command gets them.
    const launch = readFileSync(join(ROOT, "dist", "src", "cli", "main.js"), "utf8").split("\n")[1]!;
    const options = /exec node (.*?) -- /.exec(launch)?.[1]?.replaceAll("$s", "4").split(" ");
    expect(options, launch).toBeDefined();
    expect(options).toContain("--max-semi-space-size=4");
    const saved = process.execArgv;
    process.execArgv = [...saved, ...options!];
    try {
      expect(() => new Worker("", { eval: true, execArgv: process.execArgv })).toThrow(/execArgv/); // inherited as it is: refused
      const w = new Worker("require('node:worker_threads').parentPort.postMessage('up')", { eval: true, execArgv: workerExecArgv() });
      expect((await once(w, "message"))[0]).toBe("up");
      await w.terminate();
    } finally {
      process.execArgv = saved;
    }
  });
});

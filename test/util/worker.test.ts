/**
 * `npm start` runs the wizard with a small young generation for its UI thread (package.json:
 * `node --max-semi-space-size=…`, issue 18's wizard memory). Node refuses a V8 heap option in a worker's
 * execArgv, so every engine thread is started with workerExecArgv(), which leaves it out.
 */
import { describe, expect, it } from "vitest";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { workerExecArgv } from "../../src/util/worker.js";
import { ROOT } from "../helpers.js";

describe("workerExecArgv", () => {
  it("starts a worker in a process started as npm start starts the wizard", async () => {
    const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
    const option = /^node (--max-semi-space-size=\d+) dist\/src\/cli\/main\.js$/.exec(start)?.[1];
    expect(option, start).toBeDefined();
    const saved = process.execArgv;
    process.execArgv = [...saved, option!];
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

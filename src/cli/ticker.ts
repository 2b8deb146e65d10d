/**
 * Shared memory between the main thread and the progress line's clock (ticker-worker.ts): a stop
 * flag, when the main thread last wrote, when the current phase began, and the line to show while
 * it is quiet (UTF-8, `{t}` = time in the phase; already redacted by the main thread).
 */
import { Worker } from "node:worker_threads";
import { workerExecArgv } from "../util/worker.js";

/** How often the clock looks, and how long the main thread may be quiet before it shows the time. */
export const TICK_MS = 1000;
const TEXT_BYTES = 1024;
// Int32 [0] stop flag, [1] text length; Float64 [1] last update, [2] phase start; then the text.
const HEAD = 24;

interface TickerState {
  stopped: boolean;
  lastUpdate: number;
  phaseStarted: number;
  template: string;
}

export function tickerView(shared: SharedArrayBuffer) {
  const ints = new Int32Array(shared, 0, 2);
  const times = new Float64Array(shared, 8, 2);
  const text = new Uint8Array(shared, HEAD, TEXT_BYTES);
  return {
    read(): TickerState {
      const n = Atomics.load(ints, 1);
      return {
        stopped: Atomics.load(ints, 0) === 1,
        lastUpdate: times[0]!,
        phaseStarted: times[1]!,
        template: Buffer.from(text.subarray(0, n)).toString("utf8"),
      };
    },
    write(template: string, lastUpdate: number, phaseStarted: number): void {
      let bytes = Buffer.from(template, "utf8");
      if (bytes.length > TEXT_BYTES) bytes = bytes.subarray(0, TEXT_BYTES);
      Atomics.store(ints, 1, 0);
      text.set(bytes);
      times[0] = lastUpdate;
      times[1] = phaseStarted;
      Atomics.store(ints, 1, bytes.length);
    },
    stop(): void {
      Atomics.store(ints, 0, 1);
    },
  };
}

/** The clock thread for one progress line (only on a terminal). */
export class Ticker {
  private readonly shared = new SharedArrayBuffer(HEAD + TEXT_BYTES);
  private readonly view = tickerView(this.shared);
  private readonly worker: Worker;

  constructor(columns: number) {
    this.worker = new Worker(new URL("./ticker-worker.js", import.meta.url), {
      workerData: { shared: this.shared, columns },
      execArgv: workerExecArgv(),
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
  }

  say(template: string, lastUpdate: number, phaseStarted: number): void {
    this.view.write(template, lastUpdate, phaseStarted);
  }

  stop(): void {
    this.view.stop();
    void this.worker.terminate();
  }
}

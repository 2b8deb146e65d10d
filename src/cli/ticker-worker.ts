/**
 * The progress line's clock, on its own thread: the engine's SQLite work is synchronous (one
 * `CREATE INDEX`, one `integrity_check`, re-reading a backup), so a timer on the main thread would
 * not fire while it runs. This thread looks at what the main thread last said (shared
 * memory: a line with `{t}` where the time in the phase goes, and when it was said) and, when the
 * main thread has been quiet for a second, rewrites the line on the terminal itself (fd 2).
 */
import { writeSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { formatSeconds } from "../util/duration.js";
import { TICK_MS, tickerView } from "./ticker.js";
import { fitLine } from "./output.js";

const view = tickerView(workerData.shared as SharedArrayBuffer);
const columns = Number(workerData.columns) || 0;

// It looks four times a second and draws once a second at most: a quiet spell shows its time within
// about 1.25 s of the last line (looking once a second let it wait up to 2 s, more on a busy machine).
let lastDraw = 0;
setInterval(() => {
  const s = view.read();
  if (s.stopped) process.exit(0);
  const now = Date.now();
  if (!s.template || now - s.lastUpdate < TICK_MS || now - lastDraw < TICK_MS) return;
  lastDraw = now;
  const line = fitLine(s.template.replace("{t}", formatSeconds((now - s.phaseStarted) / 1000)), columns);
  try {
    writeSync(2, `\r\x1b[2K${line}`);
  } catch {
    /* the terminal went away: nothing to show */
  }
}, TICK_MS / 4);

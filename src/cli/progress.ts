import { formatSeconds } from "../util/duration.js";
import type { Output } from "./output.js";

/** rows, rows/s and ETA on one self-rewriting stderr line (TTY only), at most ~10 times a second. */
export class ProgressLine {
  private readonly started = performance.now();
  private last = 0;
  constructor(
    private readonly out: Output,
    private readonly label: string,
  ) {}

  update(done: number, total: number, what = ""): void {
    const now = performance.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    this.out.progress(formatProgress(this.label, done, total, (now - this.started) / 1000, what));
  }

  end(): void {
    this.out.endProgress();
  }
}

export function formatProgress(label: string, done: number, total: number, seconds: number, what = ""): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 && total > done ? (total - done) / rate : 0;
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
  return `${label}: ${done}/${total} rows (${pct}%) ${Math.round(rate)} rows/s ETA ${formatSeconds(eta)}${what ? ` · ${what}` : ""}`;
}

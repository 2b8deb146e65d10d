import { formatSeconds } from "../util/duration.js";
import { formatCount } from "../util/count.js";
import { redactText } from "../util/redact.js";
import type { Output } from "./output.js";
import { Ticker } from "./ticker.js";

/**
 * One self-rewriting stderr line per step (TTY only, at most ~10 times a second): rows, rows/s and
 * ETA while rows move; and, whenever nothing new arrives for a second (a phase with no counter:
 * rebuilding indexes, re-reading the backup, checking), the phase and the seconds spent in it, so
 * the operator never waits in silence.
 */
export class ProgressLine {
  private readonly started = Date.now();
  private last = 0;
  private phaseStarted = Date.now();
  private what: string | null = null;
  /** The clock thread (a terminal only): it keeps counting while this thread is busy in SQLite. */
  private readonly ticker: Ticker | null;

  constructor(
    private readonly out: Output,
    private readonly label: string,
    title = label,
  ) {
    this.ticker = out.live ? new Ticker(out.columns) : null;
    out.beginProgress();
    this.ticker?.say(redactText(silentLine(label, title, null)), this.started, this.started);
  }

  update(done: number, total: number, what = ""): void {
    if (!this.out.live) return; // not a terminal: no line to draw (formatting one per table cost ~60 ms a run)
    const now = Date.now();
    const newPhase = what !== this.what;
    if (newPhase) {
      this.what = what;
      this.phaseStarted = now;
    }
    // At most ~10 times a second (this runs once per batch of rows): the line, and what the clock thread shows when quiet.
    if (!newPhase && now - this.last < 100 && done < total) return;
    this.last = now;
    this.ticker?.say(redactText(silentLine(this.label, "", { done, total, what })), now, this.phaseStarted);
    this.out.progress(formatProgress(this.label, done, total, (now - this.started) / 1000, what));
  }

  end(): void {
    this.ticker?.stop();
    this.out.endProgress();
  }
}

function formatProgress(label: string, done: number, total: number, seconds: number, what = ""): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 && total > done ? (total - done) / rate : 0;
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
  return `${label}: ${formatCount(done)}/${formatCount(total)} rows (${pct}%) ${formatCount(Math.round(rate))} rows/s ETA ${formatSeconds(eta)}${what ? ` · ${what}` : ""}`;
}

/**
 * The line shown while a step is quiet: its phase (or its title before any counter) and `{t}`, the
 * time spent there, filled in by the clock thread.
 */
function silentLine(label: string, title: string, state: { done: number; total: number; what: string } | null): string {
  if (!state) return `${label}: ${title} … {t}`;
  const rows = `${formatCount(state.done)}/${formatCount(state.total)} rows`;
  return `${label}: ${state.what ? `${state.what} … {t} (${rows})` : `${rows} … {t} since the last row`}`;
}

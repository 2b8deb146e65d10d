import { redactText, redactValue } from "../util/redact.js";

/** A self-rewriting line must fit one terminal row, or `\r` rewrites only its last part. */
export function fitLine(line: string, columns: number): string {
  return columns > 1 && line.length > columns - 1 ? line.slice(0, columns - 2) + "…" : line;
}

/**
 * What a command prints. Human text goes to stdout (stderr under --json, where stdout carries
 * exactly one JSON object). Everything passes through redaction.
 */
export class Output {
  private readonly lines: string[] = [];
  /** A progress line is on the terminal: the next line printed clears it first. */
  private shown = false;
  constructor(
    readonly json: boolean,
    readonly command: string,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The command's report, a line at a time. */
  text(line = ""): void {
    this.clearProgress();
    const l = redactText(line);
    this.lines.push(l);
    (this.json ? this.stderr : this.stdout).write(l + "\n");
  }

  /** Notes and warnings: always stderr. */
  note(line: string): void {
    this.clearProgress();
    this.stderr.write(redactText(line) + "\n");
  }

  warn(line: string): void {
    this.note(`warning: ${line}`);
  }

  /** Whether progress lines are shown: a TTY stderr, never under --json. */
  get live(): boolean {
    return Boolean((this.stderr as NodeJS.WriteStream).isTTY) && !this.json;
  }

  /** The terminal's width (0 when unknown). */
  get columns(): number {
    return (this.stderr as NodeJS.WriteStream).columns ?? 0;
  }

  /** A progress line that rewrites itself, only on a TTY stderr and never under --json; cut to the terminal's width. */
  progress(line: string): void {
    if (!this.live) return;
    this.shown = true;
    this.stderr.write(`\r\x1b[2K${fitLine(redactText(line), this.columns)}`);
  }

  /** Before a line of text: the progress line (ours or the clock thread's) is wiped, and comes back with the next update. */
  private clearProgress(): void {
    if (this.shown) this.stderr.write("\r\x1b[2K");
  }

  /** A progress line's clock thread may write to the terminal from now on (src/cli/ticker.ts). */
  beginProgress(): void {
    if (this.live) this.shown = true;
  }

  endProgress(): void {
    this.shown = false;
    if (this.live) this.stderr.write("\r\x1b[2K");
  }

  emitJson(obj: Record<string, unknown>): void {
    this.stdout.write(JSON.stringify(redactValue(toJsonable(obj)), null, 2) + "\n");
  }

  /** Everything the command printed as its report (for report.md). */
  transcript(): string[] {
    return [...this.lines];
  }
}

/** BigInt to number (safe) or string; Uint8Array to hex; for JSON output. */
function toJsonable(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (Array.isArray(v)) return v.map(toJsonable);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    // defineProperty: a key named `__proto__` (e.g. an event name) stays an own key.
    for (const [k, x] of Object.entries(v))
      if (x !== undefined) Object.defineProperty(out, k, { value: toJsonable(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

import { redactText, redactValue } from "../util/redact.js";

/**
 * What a command prints. Human text goes to stdout (stderr under --json, where stdout carries
 * exactly one JSON object). Everything passes through redaction.
 */
export class Output {
  private readonly lines: string[] = [];
  constructor(
    readonly json: boolean,
    readonly command: string,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The command's report, a line at a time. */
  text(line = ""): void {
    const l = redactText(line);
    this.lines.push(l);
    (this.json ? this.stderr : this.stdout).write(l + "\n");
  }

  /** Notes and warnings: always stderr. */
  note(line: string): void {
    this.stderr.write(redactText(line) + "\n");
  }

  warn(line: string): void {
    this.note(`warning: ${line}`);
  }

  /** A progress line that rewrites itself, only on a TTY stderr and never under --json. */
  progress(line: string): void {
    const tty = (this.stderr as NodeJS.WriteStream).isTTY;
    if (!tty || this.json) return;
    this.stderr.write(`\r\x1b[2K${redactText(line)}`);
  }

  endProgress(): void {
    const tty = (this.stderr as NodeJS.WriteStream).isTTY;
    if (tty && !this.json) this.stderr.write("\r\x1b[2K");
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
export function toJsonable(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (Array.isArray(v)) return v.map(toJsonable);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    // defineProperty: a key named `__proto__` (e.g. an event name) stays an own key.
    for (const [k, x] of Object.entries(v)) if (x !== undefined) Object.defineProperty(out, k, { value: toJsonable(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

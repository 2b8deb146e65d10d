import { VoxError, EXIT, KIND_LABEL } from "../errors.js";
import { dbJson, describeResolution, resolveDatabase, type ResolvedDb } from "../db/resolve.js";
import { redactText } from "../util/redact.js";
import { sqliteFailure } from "../db/local.js";
import { checkPlanOption } from "../safety/guard.js";
import { Output } from "./output.js";
import { CancelToken, signalExitCode, signalsSeen, withSignals } from "../util/cancel.js";

export type Mode = "dry-run" | "apply" | "read";

export interface CommandResult {
  ok: boolean;
  exitCode?: number;
  mode: Mode;
  db?: ResolvedDb;
  data?: Record<string, unknown>;
}

export interface Ctx {
  out: Output;
  opts: Record<string, unknown>;
  /** Resolves the database (once), printing which and why. */
  resolve(): ResolvedDb;
  /** SIGINT/SIGTERM/SIGHUP during the command (handlers installed for its whole life): steps check it at safe points. */
  token: CancelToken;
}

export type Handler = (ctx: Ctx, ...args: unknown[]) => Promise<CommandResult>;

function formatError(e: VoxError): string {
  const label = `${KIND_LABEL[e.kind]}: `;
  // A message that names its kind itself ("LegacySchemaChain: …", the contract's word, kept in the JSON's message) is not labelled twice.
  return e.message.startsWith(label) ? e.message : `${label}${e.message}`;
}

/** A failure's JSON `db`: the database the command resolved, else the one --db names (a refusal before the command resolved it: --target-schema, --plan), else null. */
function failedOn(resolved: ResolvedDb | undefined, db: unknown): Record<string, string> | null {
  if (resolved) return dbJson(resolved);
  if (typeof db !== "string") return null;
  try {
    return dbJson(resolveDatabase({ db })); // pure: reads only the option
  } catch {
    return null;
  }
}

/** Runs one command: timing, resolution note, JSON envelope, error → exit code, redaction. */
export async function runCommand(command: string, opts: Record<string, unknown>, handler: Handler, args: unknown[]): Promise<number> {
  const started = performance.now();
  const out = new Output(Boolean(opts.json), command);
  let resolved: ResolvedDb | undefined;
  // apply: false is a command that takes --apply without it (program.ts): a dry-run, also when it fails.
  let mode: Mode = opts.apply ? "apply" : opts.apply === false ? "dry-run" : "read";
  const token = new CancelToken();
  const ctx: Ctx = {
    out,
    opts,
    token,
    resolve() {
      if (!resolved) {
        resolved = resolveDatabase({ db: opts.db as string | undefined });
        for (const w of resolved.warnings) out.warn(w);
        out.note(describeResolution(resolved));
      }
      return resolved;
    },
  };
  try {
    // `--plan` is checked before anything is read: empty or malformed is a usage error, never a skipped gate.
    if ("plan" in opts) checkPlanOption(opts.plan);
    if (opts.targetSchema !== undefined) {
      const { applyTargetOption } = await import("../schema/target.js");
      await applyTargetOption(opts.targetSchema);
    }
    // Signals are caught from the first line on: a Ctrl-C never kills the command mid-write without a note.
    const res = await withSignals(token, async () => {
      const r = await handler(ctx, ...args);
      await signalsSeen(); // a signal during the last synchronous stretch is reported, not lost
      return r;
    });
    mode = res.mode;
    if (token.signal) {
      // The signal came while a step could not stop (or after the last safe point): the work is complete.
      out.note(`interrupted: ${token.signal} arrived after ${command} had done its work; what it printed above is complete and true.`);
      res.exitCode = signalExitCode(token.signal);
      res.ok = false;
    }
    const db = res.db ?? resolved;
    if (out.json) {
      out.emitJson({
        command,
        ok: res.ok,
        mode,
        db: db ? dbJson(db) : null, // every --json output has it: null for a command that touches no database

        durationMs: Math.round(performance.now() - started),
        ...res.data,
      });
    }
    return res.exitCode ?? (res.ok ? EXIT.ok : EXIT.failed);
  } catch (e) {
    const err =
      e instanceof VoxError
        ? e
        : (sqliteFailure(e, resolved?.kind === "file" ? resolved.path : undefined) ??
          new VoxError("failed", {
            what: `Unexpected failure in ${command}: ${redactText(e instanceof Error ? e.message : String(e))}.`,
            untouched: "No change was committed: every write the product makes is in a transaction or to a temporary name.",
            next: "Run the command again with VOX_DEBUG=1 for details and report it.",
          }));
    if (process.env.VOX_DEBUG && e instanceof Error) process.stderr.write(redactText(e.stack ?? "") + "\n");
    out.note(formatError(err));
    if (out.json) {
      out.emitJson({
        command,
        ok: false,
        mode,
        db: failedOn(resolved, opts.db),
        durationMs: Math.round(performance.now() - started),
        error: { kind: err.kind, message: err.message, what: err.what, untouched: err.untouched, next: err.next, ...err.details },
        ...(err.details?.chain ? { chain: err.details.chain } : {}),
      });
    }
    return err.exitCode;
  }
}

/**
 * A usage error commander found before any command ran (an unknown option, a missing argument): with
 * --json on the command line, stdout still gets the one JSON object every --json output is.
 */
export function emitUsageJson(argv: string[], message: string, startedMs: number, takesApply: boolean): void {
  if (!argv.includes("--json")) return;
  const command = argv.find((a) => !a.startsWith("-")) ?? null;
  const at = argv.findIndex((a) => a === "--db" || a.startsWith("--db="));
  const dbValue = at < 0 ? undefined : argv[at]!.startsWith("--db=") ? argv[at]!.slice(5) : argv[at + 1];
  new Output(true, command ?? "vox-cutover").emitJson({
    command,
    ok: false,
    mode: argv.includes("--apply") ? "apply" : takesApply ? "dry-run" : "read",
    db: failedOn(undefined, dbValue?.startsWith("--") ? undefined : dbValue),
    durationMs: Math.round(performance.now() - startedMs),
    error: { kind: "usage", message: message.replace(/^error: /, "").trim() },
  });
}

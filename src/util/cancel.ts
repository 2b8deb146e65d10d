import { VoxError } from "../errors.js";

/**
 * SIGINT/SIGTERM become a request to stop at the next safe point: a step checks `throwIfCancelled`
 * between units of work; a step that must not be cut (the swap) runs inside `shield`.
 */
export class CancelToken {
  signal: StopSignal | null = null;
  private shielded = 0;

  request(sig: StopSignal): void {
    this.signal ??= sig;
  }

  get cancelled(): boolean {
    return this.signal !== null;
  }

  throwIfCancelled(where: string): void {
    if (this.signal && this.shielded === 0) throw interrupted(this.signal, where);
  }

  async shield<T>(fn: () => Promise<T> | T): Promise<T> {
    this.shielded++;
    try {
      return await fn();
    } finally {
      this.shielded--;
    }
  }
}

/** The signals that stop a run at a safe point: Ctrl-C, kill, and the terminal closing. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** 128 + the signal's number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP). */
export function signalExitCode(sig: StopSignal): number {
  return sig === "SIGTERM" ? 143 : sig === "SIGHUP" ? 129 : 130;
}

function interrupted(signal: StopSignal, where: string): VoxError {
  return new VoxError("interrupted", {
    what: `Interrupted (${signal}) at a safe point: ${where}.`,
    untouched: "The journal records where the run stopped and the lock was released.",
    next: "Resume with the same command plus --resume (or --rollback to undo).",
    exitCode: signalExitCode(signal),
    details: { signal, at: where },
  });
}

/** Installs handlers for the lifetime of fn; a second Ctrl-C still waits for the safe point. */
export async function withSignals<T>(token: CancelToken, fn: () => Promise<T>): Promise<T> {
  const on = (sig: StopSignal) => () => token.request(sig);
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => [sig, on(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await fn();
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** An interrupted step that writes nothing lasting (a dry-run, an export to OUT): no resume is offered, because there is nothing to resume. */
export function interruptedNothingLeft(e: VoxError, during: string, untouched: string): VoxError {
  return new VoxError("interrupted", {
    what: `Interrupted (${String(e.details?.signal ?? "signal")}) ${during}.`,
    untouched,
    next: "Run the same command again when ready; there is nothing to resume or roll back.",
    exitCode: e.exitCode,
    details: { ...e.details, resumable: false },
  });
}

/**
 * Lets a signal that came while the thread was busy reach its handler: handlers run in the event
 * loop's poll phase, and one setImmediate scheduled from the poll phase fires before the loop polls
 * again, so two turns always pass a poll.
 */
export async function signalsSeen(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}

/**
 * A safe point of a command that leaves nothing to resume (it has not changed anything yet): the
 * event loop gets a turn, so a signal that arrived is seen, and a stop request ends the command with
 * the one-line note of what is left. `untouched` says what state everything is in.
 */
export async function stopPoint(token: CancelToken, during: string, untouched: string): Promise<void> {
  await signalsSeen();
  if (token.signal) throw interruptedNothingLeft(interrupted(token.signal, during), during, untouched);
}

/** The operator declined a destructive step (wrong confirmation text): the run stops there, resumable. */
export function cancelled(step: string): VoxError {
  return new VoxError("interrupted", {
    what: `Cancelled before ${step}: the confirmation was not given.`,
    untouched: `Nothing of ${step} was done; everything before it is recorded in the journal.`,
    next: "Resume when ready (the wizard offers it, or cutover --resume --apply), or roll back.",
    exitCode: 130,
    details: { signal: "cancelled", at: step },
  });
}

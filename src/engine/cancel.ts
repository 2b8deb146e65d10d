import { VoxError } from "../errors.js";

/**
 * SIGINT/SIGTERM become a request to stop at the next safe point: a step checks `throwIfCancelled`
 * between units of work; a step that must not be cut (the swap) runs inside `shield`.
 */
export class CancelToken {
  signal: "SIGINT" | "SIGTERM" | null = null;
  private shielded = 0;

  request(sig: "SIGINT" | "SIGTERM"): void {
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

export function interrupted(signal: "SIGINT" | "SIGTERM", where: string): VoxError {
  return new VoxError("interrupted", {
    what: `Interrupted (${signal}) at a safe point: ${where}.`,
    untouched: "The journal records where the run stopped and the lock was released.",
    next: "Resume with the same command plus --resume (or --rollback to undo).",
    exitCode: signal === "SIGINT" ? 130 : 143,
    details: { signal, at: where },
  });
}

/** Installs handlers for the lifetime of fn; a second Ctrl-C still waits for the safe point. */
export async function withSignals<T>(token: CancelToken, fn: () => Promise<T>): Promise<T> {
  const onInt = () => token.request("SIGINT");
  const onTerm = () => token.request("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await fn();
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
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

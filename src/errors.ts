/**
 * Errors are values with a kind; the kind maps to the exit code in exactly one place (exitCodeFor).
 * The message is one paragraph: what was wrong, what was left untouched, what to do next.
 */
type ErrorKind = "failed" | "usage" | "refused" | "legacy" | "interrupted";

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  legacy: 4,
  sigint: 130,
  sigterm: 143,
} as const;

interface VoxErrorInit {
  /** What was wrong. */
  what: string;
  /** What was left untouched (omit when nothing was touched at all and it goes without saying). */
  untouched?: string;
  /** What to do next. */
  next?: string;
  /** Machine-readable detail for --json. */
  details?: Record<string, unknown>;
  /** Exit code override for `interrupted` (130 or 143). */
  exitCode?: number;
}

export class VoxError extends Error {
  readonly kind: ErrorKind;
  readonly what: string;
  readonly untouched?: string;
  readonly next?: string;
  readonly details?: Record<string, unknown>;
  readonly exitCode: number;

  constructor(kind: ErrorKind, init: VoxErrorInit) {
    super([init.what, init.untouched, init.next].filter(Boolean).join(" "));
    this.name = "VoxError";
    this.kind = kind;
    this.what = init.what;
    this.untouched = init.untouched;
    this.next = init.next;
    this.details = init.details;
    this.exitCode = init.exitCode ?? exitCodeFor(kind);
  }
}

/** An error as a worker thread posts it (a structured clone keeps no class), so that a refusal stays one. */
export type WireError = { kind: ErrorKind; init: VoxErrorInit } | { message: string };

export function toWire(e: unknown): WireError {
  if (e instanceof VoxError) return { kind: e.kind, init: { what: e.what, untouched: e.untouched, next: e.next, details: e.details, exitCode: e.exitCode } };
  return { message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(w: WireError): Error {
  return "kind" in w ? new VoxError(w.kind, w.init) : new Error(w.message);
}

/** The one kind → exit code table (the CLI, the engine and the wizard all read it). */
const EXIT_CODE_OF: Readonly<Record<ErrorKind, number>> = {
  failed: EXIT.failed,
  usage: EXIT.usage,
  refused: EXIT.refused,
  legacy: EXIT.legacy,
  interrupted: EXIT.sigint,
};

function exitCodeFor(kind: ErrorKind): number {
  return EXIT_CODE_OF[kind];
}

/** What the CLI prints before a message of each kind. */
export const KIND_LABEL: Readonly<Record<ErrorKind, string>> = {
  failed: "error",
  usage: "usage error",
  refused: "refused",
  legacy: "LegacySchemaChain",
  interrupted: "interrupted",
};

export const failed = (init: VoxErrorInit) => new VoxError("failed", init);
export const usage = (init: VoxErrorInit) => new VoxError("usage", init);
export const refused = (init: VoxErrorInit) => new VoxError("refused", init);
export const legacy = (init: VoxErrorInit) => new VoxError("legacy", init);

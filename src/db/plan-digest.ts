import { refused, type VoxError } from "../errors.js";
import { createHash } from "node:crypto";

export interface PlanIdentity {
  db: string;
  chain: string;
  sizeBytes: number | null;
  walBytes: number | null;
  changeCounter: number | null;
  /** The content version (src/safety/content-version.ts): changes with every committed write, WAL included. */
  contentVersion?: string;
  steps: string[];
  /** The target schema's digest (bundled baseline or --target-schema): another target is another plan. */
  target?: string;
}

/** A short hash of the database identity, its chain, size, change counter, content version and the planned steps. */
export function planDigest(p: PlanIdentity): string {
  // An empty and an absent -wal are the same state (a WAL reader using SQLite's locking may create an empty one).
  const h = createHash("sha256").update(
    JSON.stringify([
      p.db,
      p.chain,
      p.sizeBytes,
      p.walBytes || null,
      p.changeCounter,
      p.steps,
      ...(p.target ? [p.target] : []),
      ...(p.contentVersion ? [p.contentVersion] : []),
    ]),
  );
  return h.digest("hex").slice(0, 16);
}

/**
 * `--apply --plan DIGEST` when the plan now differs from the reviewed one. The digest binds the
 * database's content version, so a write since the dry-run (WAL included) is the usual cause.
 */
export function planChanged(reviewed: string, now: string): VoxError {
  return refused({
    what: `The plan changed since it was reviewed (reviewed ${reviewed}, now ${now}): either the database changed since the dry-run (its content version is bound into the digest: a row written, WAL included), or the plan's inputs differ (the path as given, the options, the target schema, the sidecar beside the database or the planned steps).`,
    untouched: "Nothing was changed.",
    next: "Review the new plan (run without --apply) and apply it with its digest; stop the application writing to the database first.",
    details: { reviewed, now },
  });
}

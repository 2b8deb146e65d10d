import { createHash } from "node:crypto";

export interface PlanIdentity {
  db: string;
  chain: string;
  sizeBytes: number | null;
  walBytes: number | null;
  changeCounter: number | null;
  steps: string[];
  /** The target schema's digest (bundled baseline or --target-schema): another target is another plan. */
  target?: string;
}

/** A short hash of the database identity, its chain, size, change counter and the planned steps. */
export function planDigest(p: PlanIdentity): string {
  const h = createHash("sha256").update(JSON.stringify([p.db, p.chain, p.sizeBytes, p.walBytes, p.changeCounter, p.steps, ...(p.target ? [p.target] : [])]));
  return h.digest("hex").slice(0, 16);
}

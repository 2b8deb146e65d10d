/**
 * Values derived from the bundled schema and contracts, computed once when those files change
 * instead of in every process: `schema/derived.json`, written by `npm run schema:derive` (and by
 * `schema:from-template`), checked by test/schema/derived.test.ts (regenerating gives the same bytes).
 *
 * Every entry is addressed by the SHA-256 of the exact text it was derived from, so a lookup can only
 * answer for those very bytes: an edited fragment or contract (or a `VOX_CUTOVER_ROOT` copy that
 * differs, or a template) misses and the caller computes as before. A missing or unreadable file
 * only costs time.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./paths.js";

/** Where the derived values live (with the package, whatever `VOX_CUTOVER_ROOT` says: entries are keyed by content). */
export function derivedPath(root = packageRoot()): string {
  return join(root, "schema", "derived.json");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The kinds of entry: a contract's parsed YAML, and what the baseline SQL implies (digest, facts, catalog). */
type DerivedKind = "yaml" | "baseline";

type DerivedFile = Partial<Record<DerivedKind, Record<string, unknown>>>;

let loaded: DerivedFile | null | undefined;

function file(): DerivedFile | null {
  if (loaded === undefined) {
    try {
      loaded = JSON.parse(readFileSync(derivedPath(), "utf8")) as DerivedFile;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** The value derived from exactly this text, or undefined (then the caller derives it). Shared: callers must not modify it. */
export function derivedFor<T>(kind: DerivedKind, text: string): T | undefined {
  const entries = file()?.[kind];
  if (!entries) return undefined;
  const hit = entries[sha256Hex(text)];
  return hit === undefined ? undefined : (hit as T);
}

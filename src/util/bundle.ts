import { statSync } from "node:fs";

/**
 * A one-file build (scripts/bundle-cli.mjs) is run when it is at least as new as the compiled module it
 * was made from (`than`); else the modules themselves (a bare `tsc` after the bundle was made, or a
 * checkout built without it).
 */
export function freshBundle(bundle: URL, than: URL): boolean {
  try {
    return statSync(bundle).mtimeMs >= statSync(than).mtimeMs;
  } catch {
    return false; // no bundle
  }
}

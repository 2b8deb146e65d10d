import { statSync } from "node:fs";

/** tsc's record of its last build of dist/ (`tsc -b` rewrites it whenever it emits); the package does not ship it. */
const LAST_BUILD = new URL("../../tsconfig.tsbuildinfo", import.meta.url);

/**
 * Whether a one-file build (scripts/bundle-cli.mjs, scripts/bundle-wizard.mjs) is to be run instead of
 * the compiled modules it was made from: it exists, and no `tsc` build came after it (a bare `tsc -b`
 * after `npm run build` rewrites the modules and its tsbuildinfo, and the modules run). An installed
 * package has no tsbuildinfo (package.json `files`): nothing rebuilds it, and its bundles are run
 * whatever their mtimes — npm writes each file as it unpacks, so a bundle can be milliseconds older than
 * the module it was made from (which is why this is not a comparison of the two).
 */
export function freshBundle(bundle: URL, lastBuild: URL = LAST_BUILD): boolean {
  let made: number;
  try {
    made = statSync(bundle).mtimeMs;
  } catch {
    return false; // no bundle
  }
  try {
    return made >= statSync(lastBuild).mtimeMs;
  } catch {
    return true; // no tsc build here: an installed package
  }
}

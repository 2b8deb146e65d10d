import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cachedRoot: string | undefined;

/** The package root (the folder holding package.json, schema/ and contracts/), found from this file. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, "utf8")).name === "vox-cutover") return (cachedRoot = dir);
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("vox-cutover: cannot find the package root (package.json)");
    dir = up;
  }
}

/** Root for schema/ and contracts/; VOX_CUTOVER_ROOT lets tests point at a copy to simulate drift. */
export function contentRoot(): string {
  const override = process.env.VOX_CUTOVER_ROOT;
  return override ? resolve(override) : packageRoot();
}

export function toolVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).version as string;
}

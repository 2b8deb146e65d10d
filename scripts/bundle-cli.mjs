/**
 * `npm run build` (after tsc): dist/src/cli/program.bundle.js — the compiled program
 * (dist/src/cli/program.js) with every module a command loads, ours and our dependencies', in one
 * file. src/cli/main.ts runs a command from it when it is at least as new as program.js: Node then
 * reads, compiles and links one file instead of ~140 modules (issue 18: the small file's whole
 * `cutover --apply` spent ~0.15–0.2 CPU-s there).
 *
 * Kept outside: libsql (a native addon, loaded from node_modules as usual), the wizard's screens
 * (src/ui: main.ts never runs the wizard from this bundle, so they are never loaded from it), and the
 * worker threads' modules: each worker loads its own file from dist/ in its own thread. So that a
 * bundled module still finds what lies beside it — a worker's file, schema/, package.json — its
 * `import.meta.url` is its own file's URL, computed from the bundle's (relative, so the install can
 * move).
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = resolve(root, "dist");
const cli = resolve(dist, "src", "cli");
const ui = resolve(dist, "src", "ui");
const builtins = new Set(builtinModules);

/** A path from the bundle's folder, as an import or URL specifier. */
const fromBundle = (abs) => {
  const p = relative(cli, abs).split(sep).join("/");
  return p.startsWith(".") ? p : `./${p}`;
};

const layout = {
  name: "cli-layout",
  setup(b) {
    b.onResolve({ filter: /^[a-z_/]+$/ }, (a) => (builtins.has(a.path) ? { path: `node:${a.path}`, external: true } : null));
    // The wizard's screens: imports of the files in dist/ (never reached from this bundle).
    b.onResolve({ filter: /^\.\.?\// }, (a) => {
      const abs = resolve(a.resolveDir, a.path);
      return abs.startsWith(ui + sep) ? { path: fromBundle(abs), external: true } : null;
    });
    // Each module of ours keeps its own URL (see above).
    b.onLoad({ filter: /\.js$/ }, (a) => {
      if (!a.path.startsWith(dist + sep) || a.path.includes(`${sep}node_modules${sep}`)) return null;
      const own = `new URL(${JSON.stringify(fromBundle(a.path))}, import.meta.url).href`;
      return { contents: readFileSync(a.path, "utf8").replaceAll("import.meta.url", own), loader: "js", resolveDir: dirname(a.path) };
    });
  },
};

await build({
  entryPoints: [resolve(cli, "program.js")],
  outfile: resolve(cli, "program.bundle.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["libsql"],
  // Some dependencies are CommonJS: their require() of Node's modules needs one.
  banner: { js: 'import { createRequire as __voxCreateRequire } from "node:module"; const require = __voxCreateRequire(import.meta.url);' },
  plugins: [layout],
  logLevel: "warning",
  legalComments: "none",
});

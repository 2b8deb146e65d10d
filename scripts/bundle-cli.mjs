/**
 * `npm run build` (after tsc): dist/src/cli/program.bundle.js — the compiled program
 * (dist/src/cli/program.js) with every module a command loads, ours and our dependencies', in one
 * file. src/cli/main.ts runs a command from it unless a `tsc` build came after it (src/util/bundle.ts): Node then
 * reads, compiles and links one file instead of ~140 modules (issue 18: the small file's whole
 * `cutover --apply` spent ~0.15–0.2 CPU-s there).
 *
 * Kept outside: libsql (a native addon, loaded from node_modules as usual) and the wizard's screens
 * (src/ui: main.ts never runs the wizard from this bundle, so they are never loaded from it). Each
 * worker thread a command starts is bundled the same way beside its own file
 * (dist/src/backup/writer-worker.bundle.js, …), and the program bundle starts that one: a worker then
 * loads one file instead of its ~40 modules (each thread has its own copy of its modules either way).
 * The wizard's engine thread (src/ui/worker.js → worker.bundle.js, started by src/ui/client.ts) is
 * one of them: the engine's ~140 modules in one file, read while the wizard draws its first frame.
 * So that a bundled module still finds what lies beside it — schema/, package.json — its
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

/** The worker threads a command starts, each bundled beside its own file (`<name>.bundle.js`). */
const WORKERS = [
  "backup/hash-worker.js",
  "backup/proof-worker.js",
  "backup/writer-worker.js",
  "cli/ticker-worker.js",
  "db/integrity-worker.js",
  "util/file-hash-worker.js",
  "ui/worker.js",
];
const workerNames = WORKERS.map((w) => w.split("/").pop());

/** The build of one bundle: `outDir` is the folder it is written to (paths are relative to it). */
function layout(outDir) {
  /** A path from the bundle's folder, as an import or URL specifier. */
  const fromBundle = (abs) => {
    const p = relative(outDir, abs).split(sep).join("/");
    return p.startsWith(".") ? p : `./${p}`;
  };
  return {
    name: "cli-layout",
    setup(b) {
      b.onResolve({ filter: /^[a-z_/]+$/ }, (a) => (builtins.has(a.path) ? { path: `node:${a.path}`, external: true } : null));
      // The wizard's screens: imports of the files in dist/ (never reached from these bundles).
      b.onResolve({ filter: /^\.\.?\// }, (a) => {
        const abs = resolve(a.resolveDir, a.path);
        return abs.startsWith(ui + sep) ? { path: fromBundle(abs), external: true } : null;
      });
      // Each module of ours keeps its own URL (see above); a worker it starts is that worker's bundle.
      b.onLoad({ filter: /\.js$/ }, (a) => {
        if (!a.path.startsWith(dist + sep) || a.path.includes(`${sep}node_modules${sep}`)) return null;
        let text = readFileSync(a.path, "utf8");
        for (const w of workerNames)
          text = text.replaceAll(`new URL("./${w}", import.meta.url)`, `new URL("./${w.replace(/\.js$/, ".bundle.js")}", import.meta.url)`);
        const own = `new URL(${JSON.stringify(fromBundle(a.path))}, import.meta.url).href`;
        return { contents: text.replaceAll("import.meta.url", own), loader: "js", resolveDir: dirname(a.path) };
      });
    },
  };
}

async function bundle(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["libsql"],
    // Some dependencies are CommonJS: their require() of Node's modules needs one.
    banner: { js: 'import { createRequire as __voxCreateRequire } from "node:module"; const require = __voxCreateRequire(import.meta.url);' },
    plugins: [layout(dirname(outfile))],
    logLevel: "warning",
    legalComments: "none",
  });
}

// The workers first: a program bundle newer than program.js always finds its workers' bundles of the same build.
for (const w of WORKERS) {
  const entry = resolve(dist, "src", w);
  await bundle(entry, entry.replace(/\.js$/, ".bundle.js"));
}
await bundle(resolve(cli, "program.js"), resolve(cli, "program.bundle.js"));

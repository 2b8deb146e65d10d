/**
 * `npm run build` (after tsc): the wizard's bundle, dist/src/ui/start.bundle.js — the compiled
 * screens (dist/src/ui) with Ink, React and their dependencies in one file. Node then loads one file
 * instead of ~580 modules before the first frame (issue 18: 2.8 s → 0.8 s under load).
 *
 * Our own modules outside src/ui (errors, schemas, engine, report, …) are NOT bundled: they stay
 * imports of the very files in dist/, so the process holds one copy of each (`instanceof VoxError`
 * holds, and nothing is loaded twice). The engine worker (src/ui/worker.ts) is not bundled either.
 * src/cli/program.ts loads the bundle unless a `tsc` build came after it (src/util/bundle.ts: a bare
 * `tsc` after it falls back to the modules themselves), else dist/src/ui/start.js.
 */
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const ui = join(dist, "src", "ui");
const outfile = join(ui, "start.bundle.js");
const builtins = new Set(builtinModules);

function join(...p) {
  return resolve(...p);
}

/** Our own compiled modules outside src/ui (and the engine worker): imports of the files themselves, relative to the bundle. */
const ownExternal = {
  name: "own-modules-external",
  setup(b) {
    // Node's built-in modules by their node: names (the package test tells them from dependencies so).
    b.onResolve({ filter: /^[a-z_/]+$/ }, (a) => (builtins.has(a.path) ? { path: `node:${a.path}`, external: true } : null));
    b.onResolve({ filter: /^\.\.?\// }, (a) => {
      const abs = resolve(a.resolveDir, a.path);
      if (!abs.startsWith(dist + sep)) return null; // inside a dependency: bundled
      if (abs.startsWith(ui + sep) && !abs.endsWith(`${sep}worker.js`)) return null; // a screen: bundled
      const p = relative(ui, abs);
      return { path: p.startsWith(".") ? p : `./${p}`, external: true };
    });
    // Ink loads its React devtools only under DEV=true, from a package that is not installed: the same
    // failure (Ink explains it), without bundling the devtools' websocket client.
    b.onResolve({ filter: /^\.\/devtools\.js$/ }, (a) =>
      a.importer.includes(`${sep}node_modules${sep}ink${sep}`) ? { path: "devtools", namespace: "absent" } : null,
    );
    b.onLoad({ filter: /.*/, namespace: "absent" }, () => ({
      contents: "throw new Error(\"Cannot find package 'react-devtools-core' (Ink's devtools are not part of the wizard)\");",
      loader: "js",
    }));
  },
};

/**
 * Every `string-width` (Ink's, wrap-ansi's own copy, …) answers lines of printable ASCII and the
 * wizard's narrow marks from src/ui/text-width.ts; any other line goes to that very copy of
 * string-width, loaded on first need (its module builds an Intl.Segmenter and emoji expressions,
 * and its first call compiles them: ~0.1–0.2 s of the first frame otherwise).
 */
const fastStringWidth = {
  name: "string-width-fast-path",
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (a) => {
      if (a.namespace === "string-width-fast") return null;
      const real = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, namespace: "string-width-fast" });
      if (real.errors.length) return { errors: real.errors };
      return { path: real.path, namespace: "string-width-fast" };
    });
    b.onLoad({ filter: /.*/, namespace: "string-width-fast" }, (a) => ({
      contents: [
        `import { narrowWidth } from ${JSON.stringify(join(ui, "text-width.js"))};`,
        "let real;",
        "export default function stringWidth(text, options) {",
        "  if (typeof text === 'string' && (options === undefined || (options.ambiguousIsNarrow !== false && !options.countAnsiEscapeCodes))) {",
        "    const w = narrowWidth(text);",
        "    if (w >= 0) return w;",
        "  }",
        `  real ??= require(${JSON.stringify(a.path)}).default;`,
        "  return real(text, options);",
        "}",
      ].join("\n"),
      resolveDir: dirname(a.path),
      loader: "js",
    }));
  },
};

/**
 * Ink's output.js turns each row of a frame into a string with @alcalzone/ansi-tokenize's
 * `styledCharsToString`, which diffs the styles of every pair of cells (Sets and arrays per cell: most of
 * what the wizard's UI thread allocates, redrawn up to ten times a second). Ink gets the same function
 * without that garbage from src/ui/styled-chars.ts, built on the library's own diff; the rest of the
 * library is Ink's as it is. The build fails if Ink stops importing the function from there.
 */
const leanStyledChars = {
  name: "lean-styled-chars",
  setup(b) {
    let used = false;
    b.onResolve({ filter: /^@alcalzone\/ansi-tokenize$/ }, async (a) => {
      if (a.namespace === "lean-styled-chars" || !a.importer.endsWith(`${sep}ink${sep}build${sep}output.js`)) return null;
      const real = await b.resolve(a.path, { kind: a.kind, importer: a.importer, resolveDir: a.resolveDir, namespace: "lean-styled-chars" });
      if (real.errors.length) return { errors: real.errors };
      used = true;
      return { path: real.path, namespace: "lean-styled-chars" };
    });
    b.onLoad({ filter: /.*/, namespace: "lean-styled-chars" }, (a) => ({
      contents: [
        `import { ansiCodesToString, diffAnsiCodes } from ${JSON.stringify(a.path)};`,
        `import { styledCharsToStringWith } from ${JSON.stringify(join(ui, "styled-chars.js"))};`,
        `export * from ${JSON.stringify(a.path)};`,
        "export const styledCharsToString = styledCharsToStringWith(diffAnsiCodes, ansiCodesToString);",
      ].join("\n"),
      resolveDir: dirname(a.path),
      loader: "js",
    }));
    b.onEnd((r) => {
      if (!r.errors.length && !used)
        throw new Error("bundle-wizard: Ink's output.js no longer imports @alcalzone/ansi-tokenize (the lean styledCharsToString was not used)");
    });
  },
};

/** A dependency's file with each of `swaps` ([from, to]) made exactly once, else the build fails (the dependency changed). */
async function patched(path, swaps) {
  let text = await readFile(path, "utf8");
  for (const [from, to] of swaps) {
    if (text.split(from).length !== 2) throw new Error(`bundle-wizard: ${path} changed: ${JSON.stringify(from)} is not there once`);
    text = text.replace(from, to);
  }
  return text;
}

/**
 * Ink's Output (output.js) starts every frame from nothing: a new object for each of the screen's cells
 * (120×40: 4,800 a frame) and new caches, so each line is tokenized into styled cells again although
 * most lines are the frame before's. In the wizard's bundle every blank cell is one frozen object (a
 * cell is replaced, never changed) and one set of caches serves every frame, emptied past 2,000 lines
 * (the strings and cells are the same either way: a cached line's cells are the ones it tokenizes to).
 * Sampling allocation profile of the 1000-row journey: 215 → ~80 MB allocated by the UI thread; its
 * young generation stayed at 16 MB instead of 32 on the 150 MB journey. The build fails if Ink's
 * text changed (each replacement must apply exactly once).
 */
const leanOutput = {
  name: "lean-output",
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, async (a) => {
      let text = await patched(a.path, [
        ["caches = new OutputCaches();", "caches = voxSharedCaches();"],
        [
          "row.push({\n                    type: 'char',\n                    value: ' ',\n                    fullWidth: false,\n                    styles: [],\n                });",
          "row.push(VOX_BLANK_CELL);",
        ],
      ]);
      text += [
        "",
        "let voxCaches;",
        "function voxSharedCaches() {",
        "    if (!voxCaches || voxCaches.styledChars.size > 2000 || voxCaches.widths.size > 4000) voxCaches = new OutputCaches();",
        "    return voxCaches;",
        "}",
        "const VOX_BLANK_CELL = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([]) });",
      ].join("\n");
      return { contents: text, loader: "js", resolveDir: dirname(a.path) };
    });
  },
};

/**
 * Two of the screens' dependencies build an Intl.Segmenter as they load and walk text's graphemes
 * with it: @alcalzone/ansi-tokenize (Ink's output.js tokenizes every new line of a frame with it) and
 * slice-ansi (Ink's clipping of a line to its box, cli-truncate's: a long path in the header). In the
 * wizard's bundle both use `graphemes` (src/ui/text-width.ts) instead, which answers a line of
 * printable ASCII, narrow marks and SGR sequences unit by unit (each unit a grapheme there) and builds
 * a segmenter on the first line that needs one: the screens build none (the first one of a process
 * loads ICU's break rules, ~15 ms of the first frame; session 31). The build fails if either file's
 * text changed.
 */
const narrowGraphemes = {
  name: "narrow-graphemes",
  setup(b) {
    const uses = [
      [
        /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/,
        'const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });',
        "segmenter",
      ],
      [/[\\/]slice-ansi[\\/]tokenize-ansi\.js$/, "const GRAPHEME_SEGMENTER = new Intl.Segmenter(undefined, {granularity: 'grapheme'});", "GRAPHEME_SEGMENTER"],
    ];
    for (const [filter, made, name] of uses)
      b.onLoad({ filter }, async (a) => ({
        contents: await patched(a.path, [[made, `import { graphemes as ${name} } from ${JSON.stringify(join(ui, "text-width.js"))};`]]),
        loader: "js",
        resolveDir: dirname(a.path),
      }));
  },
};

/**
 * Ink asks terminal-size for the screen's size, and terminal-size imports node:child_process for its
 * fallbacks (`tput`, `resize`: only where neither stdout nor stderr says its size). Loaded as it imports,
 * child_process brings dgram and socket_list with it before the first frame (~6 ms; net loads anyway, for tty); in the wizard's
 * bundle it is required on the first call of those fallbacks instead (the same function, loaded late).
 * The build fails if terminal-size's text changed.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]terminal-size[\\/]index\.js$/ }, async (a) => ({
      contents: await patched(a.path, [
        ["import {execFileSync} from 'node:child_process';", "const execFileSync = (...args) => require('node:child_process').execFileSync(...args);"],
      ]),
      loader: "js",
      resolveDir: dirname(a.path),
    }));
  },
};

await build({
  entryPoints: [join(ui, "start.js")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // React and some of Ink's dependencies are CommonJS: their require() of Node's modules needs one.
  banner: { js: 'import { createRequire as __voxCreateRequire } from "node:module"; const require = __voxCreateRequire(import.meta.url);' },
  // React's production build: the development one only adds checks and warnings for React's own
  // developers (~0.1 s of the first frame, and its warnings would land in the operator's terminal).
  // Without the bundle (tests, a bare tsc) React picks its build from NODE_ENV as usual.
  define: {
    "process.env.NODE_ENV": '"production"',
    // Nothing in the wizard fetches: without this, Yoga's loader fetches its inline WASM from a data:
    // URL, which loads Node's HTTP client (undici) first (~0.1–0.2 s); it then decodes it in place.
    fetch: "undefined",
  },
  plugins: [fastStringWidth, narrowGraphemes, leanStyledChars, leanOutput, lazyChildProcess, ownExternal],
  logLevel: "warning",
  legalComments: "none",
});

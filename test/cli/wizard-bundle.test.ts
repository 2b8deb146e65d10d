/**
 * The wizard's bundle (scripts/bundle-wizard.mjs, issue 18): the screens with Ink and React in one
 * file, our other modules imported from dist/ (never a second copy: `instanceof VoxError` must hold
 * across the wizard and the modules it shares with the commands), and a packed install that starts
 * the wizard from it.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { freshBundle } from "../../src/util/bundle.js";
import { ROOT } from "../helpers.js";
import { installedPackage, reachableTmp } from "../fixtures/install.js";
import { moduleLog } from "../fixtures/module-log.js";

const UI = join(ROOT, "dist", "src", "ui");
const BUNDLE = join(UI, "start.bundle.js");

/** The wizard on a pseudo-terminal until its first screen shows, then Ctrl-C (the one helper the bench uses too). */
const PTY = join(ROOT, "test", "fixtures", "pty-wizard.py");

describe("the wizard's bundle", () => {
  it("holds only the screens and their dependencies; every other module of ours is imported from dist/", () => {
    expect(existsSync(BUNDLE), "npm run build makes dist/src/ui/start.bundle.js").toBe(true);
    // program.ts loads it unless a tsc build came after it (util/bundle.ts).
    expect(freshBundle(pathToFileURL(BUNDLE))).toBe(true);
    const text = readFileSync(BUNDLE, "utf8");
    // esbuild marks each bundled module with its path: of ours, only the screens (src/ui, not the engine worker).
    const ours = [...text.matchAll(/^\/\/ (dist\/\S+)$/gm)].map((m) => m[1]!);
    expect(ours.length).toBeGreaterThan(10);
    expect(ours.filter((p) => !p.startsWith("dist/src/ui/") || p.endsWith("/worker.js"))).toEqual([]);
    expect(ours).toContain("dist/src/ui/App.js");
    // The rest of ours: relative imports of the very files in dist/ (errors.js among them), outside src/ui.
    const rel = [...new Set([...text.matchAll(/\bfrom\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!))];
    expect(rel).toContain("../errors.js");
    for (const r of rel) {
      const abs = resolve(UI, r);
      expect(existsSync(abs), r).toBe(true);
      expect(relative(UI, abs).startsWith(".."), `${r} is outside src/ui`).toBe(true);
    }
    // Bare imports: Node's own modules only (Ink, React and theirs are inside).
    const bare = [...text.matchAll(/\b(?:from\s*|import\s*\(\s*)"([a-z@][\w@/.:-]*)"/g)].map((m) => m[1]!);
    expect(bare.filter((b) => !b.startsWith("node:"))).toEqual([]);
  });

  it("before the first frame: React's production build, string-width behind the fast path, ansi-tokenize's and slice-ansi's graphemes without an Intl.Segmenter, no database driver", () => {
    const text = readFileSync(BUNDLE, "utf8");
    const modules = [...text.matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1]!);
    expect(modules).toContain("node_modules/react/cjs/react.production.js");
    expect(modules.filter((m) => /\.development\.js$/.test(m))).toEqual([]);
    // Every copy of string-width is reached through the wrapper that asks src/ui/text-width.ts first.
    const copies = modules.filter((m) => /^node_modules\/(.+\/)?string-width\/index\.js$/.test(m));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies)
      expect(
        modules.some((m) => m.startsWith("string-width-fast:") && m.endsWith(c)),
        c,
      ).toBe(true);
    expect(modules).toContain("dist/src/ui/text-width.js");
    // ansi-tokenize and slice-ansi walk graphemes with the screens' own segmenter (scripts/bundle-wizard.mjs narrowGraphemes).
    expect(text).not.toMatch(/\b(GRAPHEME_SEGMENTER|segmenter\d*) = new Intl\.Segmenter\(void 0, \{ granularity: "grapheme" \}\)/);
    expect(text.match(/\bgraphemes\.segment\(/g)?.length).toBe(4); // ansi-tokenize's one use, slice-ansi's three
    // The modules of ours the bundle imports, and theirs, statically: none loads libsql (the engine
    // worker does, in its own thread); the wizard's main thread draws without it.
    const seen = new Set<string>();
    const bare = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"/gm)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
        else bare.add(spec);
      }
    };
    walk(BUNDLE);
    expect(seen.size).toBeGreaterThan(5);
    expect([...bare].filter((b) => !b.startsWith("node:"))).not.toContain("libsql");
    // Nor child_process (with dgram and socket_list): terminal-size's fallbacks require it when first called (lazyChildProcess).
    expect([...bare]).not.toContain("node:child_process");
    expect(text).toMatch(/execFileSync = \(\.\.\.args\) => __require\("node:child_process"\)\.execFileSync\(\.\.\.args\)/);
    expect([...seen].map((f) => relative(ROOT, f)).filter((f) => /src\/(db|backup)\//.test(f))).toEqual([]);
  });

  it("a packed install (npm pack → npm install --omit=dev) carries it and starts the wizard's first screen, making no Intl.Segmenter", async () => {
    const inst = await installedPackage();
    const ui = join(dirname(inst.bin), "..", "ui");
    expect(existsSync(join(ui, "start.bundle.js"))).toBe(true);
    const dir = reachableTmp();
    const db = join(dir, "absent.db");
    // Every module Node loads, the engine thread's too (test/fixtures/module-log.ts); and every Intl.Segmenter made (the first
    // one of a process loads ICU's break rules, ~15 ms: the screens' text never needs one, src/ui/text-width.ts).
    const modules = moduleLog(dir);
    const segmenters = join(dir, "segmenters");
    const countSegmenters = join(dir, "count-segmenters.cjs");
    writeFileSync(
      countSegmenters,
      `const S = Intl.Segmenter; Intl.Segmenter = class extends S { constructor(...a) { super(...a); require("node:fs").appendFileSync(${JSON.stringify(segmenters)}, new Error().stack + "\\n"); } };`,
    );
    const r = await execa("python3", [PTY, inst.bin, db, "--until", "Looking for the database", "--until", "Preconditions"], {
      reject: false,
      timeout: 120_000,
      env: { NODE_OPTIONS: `${modules.nodeOptions} --require=${countSegmenters}` },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    // The screens and the engine thread ran from their bundles, though npm wrote each file of the install as it unpacked it.
    const urls = modules.loaded();
    expect(urls).toContain(pathToFileURL(join(ui, "start.bundle.js")).href);
    expect(urls).toContain(pathToFileURL(join(ui, "worker.bundle.js")).href);
    expect(urls).not.toContain(pathToFileURL(join(ui, "App.js")).href);
    // `wizard --db PATH` in a terminal starts it without the program: neither commander nor program.js loaded (src/cli/wizard-args.ts).
    expect(urls.filter((u) => /\/commander\/|\/cli\/program(\.bundle)?\.js$/.test(u))).toEqual([]);
    expect(urls).toContain(pathToFileURL(join(dirname(inst.bin), "wizard-entry.js")).href);
    expect(r.stdout).toContain("Preconditions");
    expect(existsSync(segmenters) ? readFileSync(segmenters, "utf8") : "", "an Intl.Segmenter was made").toBe("");
    expect(r.stdout).not.toMatch(/Error|at .*\.js:\d+/);
  });
});

/**
 * The package as an operator installs it (issue 20.3, 21): `npm pack`, then `npm install --omit=dev`
 * into a scratch folder outside the checkout (test/fixtures/install.ts). No dev dependency, no file of
 * the checkout is reachable from there, so a runtime import listed as a dev dependency, or a file the
 * package does not ship, fails here.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { factsToFragments } from "../../src/schema/ddl.js";
import { cleanEnv, makeVoxDb, ROOT, voxFacts } from "../helpers.js";
import { installedPackage, reachableTmp } from "../fixtures/install.js";
import { standInVox } from "../fixtures/vox-standin.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function run(bin: string, args: string[], env: Record<string, string> = {}, cwd = "/") {
  return execa("node", [bin, ...args], { env: cleanEnv(env), extendEnv: false, reject: false, stdin: "ignore", cwd, timeout: 120_000 });
}

/** The installed command as an operator runs it: npm's link in node_modules/.bin, executed (the kernel reads its `#!` line). */
const linked = async () => join((await installedPackage()).prefix, "node_modules", ".bin", "vox-cutover");
const direct = (bin: string, args: string[], env: Record<string, string | undefined> = {}) =>
  execa(bin, args, { env: cleanEnv(env), extendEnv: false, reject: false, stdin: "ignore", cwd: "/", timeout: 120_000 });

describe("a production install (npm pack → npm install --omit=dev, outside the checkout)", () => {
  it("--version, diagnose and diagnose --target-schema vox (a stand-in vox on PATH) work", async () => {
    const inst = await installedPackage();
    expect(inst.bin.startsWith(ROOT)).toBe(false);
    // --omit=dev really left the dev tools out: nothing of the checkout's node_modules is used.
    expect(readdirSync(join(inst.prefix, "node_modules"))).not.toContain("vitest");

    const v = await run(inst.bin, ["--version"]);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stdout.trim()).toContain(pkg.version);

    const dir = reachableTmp();
    const legacy = join(dir, "legacy.db");
    const s = await run(inst.bin, ["sample", legacy, "--rows", "5"]);
    expect(s.exitCode, s.stderr).toBe(0);
    const d = await run(inst.bin, ["diagnose", "--db", legacy, "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).chain).toBe("legacy");

    // --target-schema vox runs the operator's vox (execa at run time): a vox 66 file against a vox 66 stand-in is current.
    const current = join(dir, "current.db");
    makeVoxDb(current, "66", [66]);
    const sql =
      factsToFragments(voxFacts("66"))
        .flatMap((f) => f.statements)
        .join("\n") + "\nINSERT INTO schema_version (version) VALUES (66);\n";
    const bin = standInVox(dir, sql, "vox 0.66.0 (stand-in)");
    const t = await run(inst.bin, ["diagnose", "--db", current, "--target-schema", "vox", "--json"], { PATH: `${bin}:${process.env.PATH}` });
    expect(t.exitCode, t.stderr).toBe(0);
    const j = JSON.parse(t.stdout);
    expect(j.chain).toBe("current");
    expect(j.baseline.origin).toBe("the operator's vox (vox 0.66.0 (stand-in))");
    expect(j.structure.equal).toBe(true);
  });

  it("runs a command, the wizard's screens and its engine thread from their one-file builds (npm unpacks files in any order)", async () => {
    const bin = await linked();
    const inst = await installedPackage();
    const dir = reachableTmp();
    const db = join(dir, "vox.db");
    expect((await direct(bin, ["sample", db, "--rows", "5"])).exitCode).toBe(0);
    // Every module Node loads, named by a loader hook (its own thread) that appends each URL to a file.
    const loaded = join(dir, "loaded");
    const hook = `import { appendFileSync } from "node:fs"; export async function load(url, context, next) { appendFileSync(${JSON.stringify(loaded)}, url + "\\n"); return next(url, context); }`;
    const probe = join(dir, "probe.mjs");
    writeFileSync(probe, `import { register } from "node:module";\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`);
    const d = await direct(bin, ["diagnose", "--db", db, "--json"], { NODE_OPTIONS: `--import=${probe}` });
    expect(d.exitCode, d.stderr).toBe(0);
    const cli = `${pathToFileURL(join(inst.prefix, "node_modules", "vox-cutover", "dist", "src", "cli")).href}/`;
    const urls = readFileSync(loaded, "utf8").split("\n");
    expect(urls).toContain(`${cli}program.bundle.js`);
    expect(urls).not.toContain(`${cli}program.js`);
    // The package ships no tsbuildinfo (nothing rebuilds an install), so the wizard's bundles are run too: its screens and its engine thread.
    const dist = join(inst.prefix, "node_modules", "vox-cutover", "dist");
    expect(readdirSync(dist).filter((f) => f.endsWith(".tsbuildinfo"))).toEqual([]);
    const installed = (await import(pathToFileURL(join(dist, "src", "util", "bundle.js")).href)) as typeof import("../../src/util/bundle.js");
    for (const b of ["ui/start.bundle.js", "ui/worker.bundle.js"]) expect(installed.freshBundle(pathToFileURL(join(dist, "src", b))), b).toBe(true);
  });
});

/** Every bare specifier (a package name's shape: not text such as the wizard bundle's `from " + name + "`) the built program imports (static, dynamic, and `require()` made with createRequire for lazy loads), as package names. */
function runtimeImports(): Set<string> {
  const names = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".js")) {
        for (const m of readFileSync(p, "utf8").matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']([a-z@][\w@/.:-]*)["']/g)) {
          const spec = m[1]!;
          if (spec.startsWith("node:")) continue;
          const parts = spec.split("/");
          names.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
        }
      }
    }
  };
  walk(join(ROOT, "dist", "src"));
  walk(join(ROOT, "dist", "stages"));
  return names;
}

describe("package.json against the program's imports", () => {
  it("every runtime import is a dependency, and every dependency is imported", () => {
    const imported = runtimeImports();
    expect(imported.size).toBeGreaterThan(3); // the scan found the imports (ink, libsql, …)
    const deps = Object.keys(pkg.dependencies ?? {}).sort();
    expect([...imported].filter((n) => !deps.includes(n)).sort(), "imported at run time but not a dependency").toEqual([]);
    expect(
      deps.filter((n) => !imported.has(n)),
      "a dependency nothing imports",
    ).toEqual([]);
  });
});

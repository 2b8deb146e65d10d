/**
 * The package as an operator installs it (issue 20.3, 21): `npm pack`, then `npm install --omit=dev`
 * into a scratch folder outside the checkout (test/fixtures/install.ts). No dev dependency, no file of
 * the checkout is reachable from there, so a runtime import listed as a dev dependency, or a file the
 * package does not ship, fails here.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { cleanEnv, makeVoxDb, ROOT, voxFacts } from "../helpers.js";
import { installedPackage, reachableTmp } from "../fixtures/install.js";
import { standInVox, templateSql } from "../fixtures/vox-standin.js";
import { moduleLog } from "../fixtures/module-log.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function run(bin: string, args: string[], env: Record<string, string> = {}, cwd = "/") {
  return execa("node", [bin, ...args], { env: cleanEnv(env), extendEnv: false, reject: false, stdin: "ignore", cwd, timeout: 120_000 });
}

/** The installed command as an operator runs it: npm's link in node_modules/.bin, executed (the kernel reads `#!/bin/sh`). */
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
    const sql = templateSql(voxFacts("66"), 66);
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
    // Every module Node loads, named by a loader hook (test/fixtures/module-log.ts).
    const modules = moduleLog(dir);
    const d = await direct(bin, ["diagnose", "--db", db, "--json"], { NODE_OPTIONS: modules.nodeOptions });
    expect(d.exitCode, d.stderr).toBe(0);
    const cli = `${pathToFileURL(join(inst.prefix, "node_modules", "vox-cutover", "dist", "src", "cli")).href}/`;
    const urls = modules.loaded();
    expect(urls).toContain(`${cli}program.bundle.js`);
    expect(urls).not.toContain(`${cli}program.js`);
    // The package ships no tsbuildinfo (nothing rebuilds an install), so the wizard's bundles are run too: its screens and its engine thread.
    const dist = join(inst.prefix, "node_modules", "vox-cutover", "dist");
    expect(readdirSync(dist).filter((f) => f.endsWith(".tsbuildinfo"))).toEqual([]);
    const installed = (await import(pathToFileURL(join(dist, "src", "util", "bundle.js")).href)) as typeof import("../../src/util/bundle.js");
    for (const b of ["ui/start.bundle.js", "ui/worker.bundle.js"]) expect(installed.freshBundle(pathToFileURL(join(dist, "src", b))), b).toBe(true);
  });
});

describe("the bin as npm links it: main.ts's launch line (issue 18: peak RSS)", () => {
  /** Until the run has written its pause marker (its pid and the point, a whole line); a run that ends first fails the test with its output. */
  const pausedAt = async (marker: string, child: ReturnType<typeof direct>): Promise<string> => {
    let ended: { exitCode?: number; stderr?: unknown } | undefined;
    void child.then((r) => (ended = r));
    for (;;) {
      const text = existsSync(marker) ? readFileSync(marker, "utf8") : "";
      if (text.endsWith("\n")) return text;
      if (ended) expect.fail(`the run ended (${ended.exitCode}) before its pause point: ${String(ended.stderr)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** A vox on PATH that records the MALLOC_ARENA_MAX it was started with, then answers as the stand-in (test/fixtures/vox-standin.ts). */
  const recordingVox = (dir: string, seen: string) => {
    const sql = templateSql(voxFacts("66"), 66);
    const inner = standInVox(join(dir, "inner"), sql, "vox 0.66.0 (stand-in)");
    const bin = join(dir, "recording");
    mkdirSync(bin);
    writeFileSync(join(bin, "vox"), `#!/bin/sh\necho "\${MALLOC_ARENA_MAX-unset}" >> '${seen}'\nexec '${join(inner, "vox")}' "$@"\n`);
    chmodSync(join(bin, "vox"), 0o755);
    return bin;
  };

  it("hands node the young-generation size and MALLOC_ARENA_MAX, and every argument unchanged (a stand-in node on PATH)", async () => {
    const bin = await linked();
    const dir = reachableTmp();
    const fake = join(dir, "fake-node");
    mkdirSync(fake);
    const out = join(dir, "argv");
    writeFileSync(join(fake, "node"), `#!/bin/sh\nprintf '%s\\0' "$@" > '${out}'\nprintf '%s\\0' "MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX-unset}" >> '${out}'\n`);
    chmodSync(join(fake, "node"), 0o755);
    const launched = async (args: string[], env: Record<string, string | undefined> = {}) => {
      rmSync(out, { force: true });
      const r = await direct(bin, args, { PATH: `${fake}:${process.env.PATH}`, MALLOC_ARENA_MAX: undefined, ...env });
      expect(r.exitCode, r.stderr).toBe(0);
      return readFileSync(out, "utf8").split("\0").slice(0, -1);
    };
    const odd = ["cutover", "--db", "a b/vox.db", "--work-dir", "", "$HOME", "it's", "*", "-- x", "\\n"];
    expect(await launched(odd)).toEqual(["--max-semi-space-size=4", "--", bin, ...odd, "MALLOC_ARENA_MAX=2"]);
    // The wizard's screens (no argument, options alone, `wizard`): the smaller young generation; an empty first argument is a command (main.ts fromBundle).
    expect(await launched([])).toEqual(["--max-semi-space-size=2", "--", bin, "MALLOC_ARENA_MAX=2"]);
    expect((await launched(["--db", "x.db"]))[0]).toBe("--max-semi-space-size=2");
    expect((await launched(["wizard"]))[0]).toBe("--max-semi-space-size=2");
    expect((await launched(["", "x"]))[0]).toBe("--max-semi-space-size=4");
    // An operator's own MALLOC_ARENA_MAX is kept, an empty one too.
    expect((await launched(["diagnose"], { MALLOC_ARENA_MAX: "8" })).at(-1)).toBe("MALLOC_ARENA_MAX=8");
    expect((await launched(["diagnose"], { MALLOC_ARENA_MAX: "" })).at(-1)).toBe("MALLOC_ARENA_MAX=");
    // No node on PATH: the shell's own error and 127, nothing run after it — also in a shell that goes on after a failed exec (bash's execfail).
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const none = await execa("bash", ["-c", `shopt -s execfail; PATH='${empty}'; . '${bin}' x`], { reject: false, stdin: "ignore", cwd: dir });
    expect(none.exitCode).toBe(127);
    expect(none.stderr).toMatch(/node/);
    expect(none.stderr.trim().split("\n"), none.stderr).toHaveLength(1); // the exec's error, and not a line of the comment after it run as a command
  });

  it("runs a cutover with every worker thread as one process, node with both settings, signals and exit codes its own; the operator's vox gets the operator's environment", async () => {
    const bin = await linked();
    const dir = reachableTmp();
    const db = join(dir, "vox.db");
    expect((await direct(bin, ["sample", db, "--rows", "5"])).exitCode).toBe(0);
    // Every worker a large file starts, started on the sample (a worker refuses a V8 heap option in its execArgv).
    const workers = {
      VOX_CUTOVER_IMPORT_HASH_BESIDE_BYTES: "0",
      VOX_CUTOVER_PROOF_WORKER_BYTES: "0",
      VOX_CUTOVER_CHECKS_BESIDE_BYTES: "0",
      VOX_CUTOVER_INTEGRITY_PARTS_BYTES: "0",
      VOX_CUTOVER_INTEGRITY_BESIDE_BYTES: "0",
      VOX_CUTOVER_HASH_BESIDE_BYTES: "0",
      VOX_CUTOVER_WRITER_WORKER_BYTES: "0",
    };
    const marker = join(dir, "paused");
    const child = direct(bin, ["cutover", "--db", db, "--apply"], {
      ...workers,
      MALLOC_ARENA_MAX: undefined,
      VOX_CUTOVER_PAUSE_AT: "after:export",
      VOX_CUTOVER_PAUSE_MS: "60000",
      VOX_CUTOVER_PAUSE_FILE: marker,
    });
    try {
      // The shell replaced itself: the process that paused is the one started, and it is node with both settings.
      expect((await pausedAt(marker, child)).split(" ")[0]).toBe(String(child.pid));
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline.slice(1, 3)).toEqual(["--max-semi-space-size=4", "--"]);
      expect(readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0")).toContain("MALLOC_ARENA_MAX=2");
      rmSync(marker);
      const done = await child;
      expect(done.exitCode, done.stderr).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    const diag = await direct(bin, ["diagnose", "--db", db, "--json"]);
    expect(JSON.parse(diag.stdout).chain).toBe("current");

    // The operator's vox (--target-schema vox) runs with the operator's MALLOC_ARENA_MAX, not the launch's.
    const seen = join(dir, "seen");
    const voxBin = recordingVox(dir, seen);
    for (const arena of [undefined, "8"]) {
      const t = await direct(bin, ["diagnose", "--db", db, "--target-schema", "vox", "--json"], {
        PATH: `${voxBin}:${process.env.PATH}`,
        MALLOC_ARENA_MAX: arena,
      });
      expect(t.exitCode, t.stderr).toBe(0);
    }
    const seenBy = readFileSync(seen, "utf8").trim().split("\n");
    expect(seenBy.length).toBeGreaterThanOrEqual(2);
    expect(seenBy.slice(0, seenBy.length / 2).every((v) => v === "unset")).toBe(true);
    expect(seenBy.slice(seenBy.length / 2).every((v) => v === "8")).toBe(true);

    // A signal sent to the started pid reaches node: SIGINT at a safe point, exit 130.
    const dir2 = reachableTmp();
    const db2 = join(dir2, "vox.db");
    expect((await direct(bin, ["sample", db2, "--rows", "5"])).exitCode).toBe(0);
    const marker2 = join(dir2, "paused");
    const run2 = direct(bin, ["cutover", "--db", db2, "--apply"], {
      VOX_CUTOVER_PAUSE_AT: "after:export",
      VOX_CUTOVER_PAUSE_MS: "60000",
      VOX_CUTOVER_PAUSE_FILE: marker2,
    });
    try {
      await pausedAt(marker2, run2);
      run2.kill("SIGINT");
      rmSync(marker2);
      const interrupted = await run2;
      expect(interrupted.exitCode).toBe(130);
      expect(interrupted.stderr).toMatch(/Interrupted \(SIGINT\)/);
    } finally {
      run2.kill("SIGKILL");
    }
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

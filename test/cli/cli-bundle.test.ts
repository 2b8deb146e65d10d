/**
 * The command's one-file build (scripts/bundle-cli.mjs, issue 18): src/cli/main.ts runs a command
 * from dist/src/cli/program.bundle.js, the wizard from the modules; the workers a command starts run
 * from their own bundles. The bundle must find every file
 * its modules find beside themselves (the workers' files above all: a wrong URL is a crash in the
 * middle of a cutover), and a cutover run from it keeps every value (judged by the sqlite3 CLI).
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BIN, cleanEnv, ROOT, sampleInto, sha3sums, sqlite, tmp } from "../helpers.js";
import { freshBundle } from "../../src/util/bundle.js";

const CLI = join(ROOT, "dist", "src", "cli");
const BUNDLE = join(CLI, "program.bundle.js");

/** `node --import` of this file makes every process (and worker) print each of our modules it loads. */
function loadLogger(dir: string): string {
  const hook = `export async function resolve(s, c, n) { const r = await n(s, c); if (r.url.includes("/dist/src/")) process.stderr.write("loaded " + r.url + "\\n"); return r; }`;
  const path = join(dir, "log-loads.mjs");
  writeFileSync(path, `import { register } from "node:module";\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`);
  return path;
}

/** The command in a process of its own, each module it loads printed (`loadLogger`). */
function logged(hook: string, args: string[], env: Record<string, string | undefined>) {
  return execa(process.execPath, ["--import", hook, BIN, ...args], { env, extendEnv: false, reject: false, stdin: "ignore" });
}

describe("the command's bundle", () => {
  it("is fresh after the build and finds every file beside its modules: workers, the wizard's files; only libsql and Node's modules outside", () => {
    expect(existsSync(BUNDLE), "npm run build makes dist/src/cli/program.bundle.js").toBe(true);
    expect(freshBundle(pathToFileURL(BUNDLE)), "no tsc build after it (util/bundle.ts)").toBe(true);
    const text = readFileSync(BUNDLE, "utf8");
    const ours = [...text.matchAll(/^\/\/ (dist\/\S+)$/gm)].map((m) => m[1]!);
    expect(ours).toContain("dist/src/cli/program.js");
    expect(ours).toContain("dist/src/backup/export.js");
    // Never a screen of the wizard (main.ts runs the wizard from the modules), never a worker's own file.
    expect(ours.filter((p) => p.startsWith("dist/src/ui/") || /-worker\.js$/.test(p))).toEqual([]);
    // Each module's import.meta.url is its own file's: every URL built from one names a file in dist/.
    const urls = [...text.matchAll(/new URL\("([^"]+)", new URL\("([^"]+)", import\.meta\.url\)\.href\)/g)];
    const files = urls.map((m) => fileURLToPath(new URL(m[1]!, new URL(m[2]!, pathToFileURL(BUNDLE)))));
    // Each worker it starts is that worker's own bundle, beside the worker's file: its module inside, only libsql and node: outside.
    for (const w of ["hash-worker", "proof-worker", "writer-worker", "ticker-worker"]) {
      const file = files.find((f) => f.endsWith(`/${w}.bundle.js`));
      expect(file, w).toBeDefined();
      const wtext = readFileSync(file!, "utf8");
      expect(wtext).toMatch(new RegExp(`^// dist/src/(backup|cli)/${w}\\.js$`, "m"));
      const wbare = [...new Set([...wtext.matchAll(/\b(?:from\s*|import\s*\(\s*)"([a-z@][\w@/.:-]*)"/g)].map((m) => m[1]!))];
      expect(
        wbare.filter((b) => !b.startsWith("node:") && b !== "libsql"),
        w,
      ).toEqual([]);
      // Written before the program's bundle: a fresh program bundle always finds its workers' of the same build.
      expect(statSync(file!).mtimeMs, w).toBeLessThanOrEqual(statSync(BUNDLE).mtimeMs);
    }
    for (const f of files) expect(existsSync(f), f).toBe(true);
    // No module of ours reads the bundle's own URL unchanged.
    expect(text.match(/(?<!, )import\.meta\.url(?!\)\.href)/g) ?? []).toHaveLength(1); // the banner's createRequire
    const bare = [...new Set([...text.matchAll(/\b(?:from\s*|import\s*\(\s*)"([a-z@][\w@/.:-]*)"/g)].map((m) => m[1]!))];
    expect(bare.filter((b) => !b.startsWith("node:"))).toEqual(["libsql"]);
    const relative = [...new Set([...text.matchAll(/\b(?:from\s*|import\s*\(\s*)"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!))];
    for (const r of relative) {
      expect(r.startsWith("../ui/"), r).toBe(true);
      expect(existsSync(resolve(CLI, r)), r).toBe(true);
    }
  });

  it("the wizard's engine thread has its own bundle, fresh, started by the wizard, finding every file beside its modules; only libsql and Node's modules outside", () => {
    const UI = join(ROOT, "dist", "src", "ui");
    const file = join(UI, "worker.bundle.js");
    expect(existsSync(file), "npm run build makes dist/src/ui/worker.bundle.js").toBe(true);
    expect(freshBundle(pathToFileURL(file)), "no tsc build after it (util/bundle.ts)").toBe(true);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\/\/ dist\/src\/ui\/worker\.js$/m);
    expect(text).toMatch(/^\/\/ dist\/src\/cutover\/run\.js$/m);
    const bare = [...new Set([...text.matchAll(/\b(?:from\s*|import\s*\(\s*)"([a-z@][\w@/.:-]*)"/g)].map((m) => m[1]!))];
    expect(bare.filter((b) => !b.startsWith("node:"))).toEqual(["libsql"]);
    const urls = [...text.matchAll(/new URL\("([^"]+)", new URL\("([^"]+)", import\.meta\.url\)\.href\)/g)];
    const files = urls.map((m) => fileURLToPath(new URL(m[1]!, new URL(m[2]!, pathToFileURL(file)))));
    for (const w of ["hash-worker", "proof-worker", "writer-worker"])
      expect(
        files.some((f) => f.endsWith(`/backup/${w}.bundle.js`)),
        w,
      ).toBe(true);
    for (const f of files) expect(existsSync(f), f).toBe(true);
    // The wizard starts it: the client names it beside itself, in its module and in the wizard's bundle (same folder).
    for (const f of ["client.js", "start.bundle.js"]) expect(readFileSync(join(UI, f), "utf8"), f).toContain('new URL("./worker.bundle.js", import.meta.url)');
  });

  it("a cutover --apply runs from it with every worker started and keeps every value; the wizard and --help load the modules", async () => {
    const dir = tmp();
    const { db } = await sampleInto(dir, 20);
    const hook = loadLogger(tmp());
    const env = cleanEnv({ VOX_CUTOVER_WRITER_WORKER_BYTES: "0", VOX_CUTOVER_PROOF_WORKER_BYTES: "0" });
    const r = await logged(hook, ["cutover", "--db", db, "--apply", "--json"], env);
    expect(r.exitCode, r.stderr).toBe(0);
    const loaded = String(r.stderr)
      .split("\n")
      .filter((l) => l.startsWith("loaded "));
    expect(loaded).toContain(`loaded ${pathToFileURL(BUNDLE).href}`);
    expect(loaded).not.toContain(`loaded ${pathToFileURL(join(CLI, "program.js")).href}`);
    // The workers loaded their bundles (the writer's and the proof's were forced on).
    for (const w of ["backup/writer-worker.bundle.js", "backup/proof-worker.bundle.js"])
      expect(
        loaded.some((l) => l.endsWith(`/dist/src/${w}`)),
        w,
      ).toBe(true);
    const archive = JSON.parse(String(r.stdout)).archive.path as string;
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    const tables = ["embeddings", "names", "search_document_chunks", "knowledge_nodes", "objects"];
    const [got, want] = [sha3sums(db, tables), sha3sums(archive, tables)]; // one sqlite3 process per file
    tables.forEach((t, i) => expect(got[i], t).toBe(want[i]));

    const help = await logged(hook, ["--help"], cleanEnv());
    expect(help.exitCode).toBe(0);
    expect(String(help.stderr)).toContain(`loaded ${pathToFileURL(join(CLI, "program.js")).href}`);
    expect(String(help.stderr)).not.toContain("program.bundle.js");
    // The wizard (here refusing: no terminal) runs from the modules too.
    const wizard = await logged(hook, ["wizard", "--db", db], cleanEnv());
    expect(wizard.exitCode).toBe(2);
    expect(String(wizard.stderr)).not.toContain("program.bundle.js");
  });
});

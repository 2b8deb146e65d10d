/**
 * The wizard's bundle (scripts/bundle-wizard.mjs, issue 18): the screens with Ink and React in one
 * file, our other modules imported from dist/ (never a second copy: `instanceof VoxError` must hold
 * across the wizard and the modules it shares with the commands), and a packed install that starts
 * the wizard from it.
 */
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "../helpers.js";
import { installedPackage, reachableTmp } from "../fixtures/install.js";

const UI = join(ROOT, "dist", "src", "ui");
const BUNDLE = join(UI, "start.bundle.js");

/** The first screen in a pseudo-terminal: every byte the wizard wrote until Stage 0 shows (or 60 s), then Ctrl-C. */
const PTY = `
import os, pty, sys, time, signal, select
pid, fd = pty.fork()
if pid == 0:
    os.environ.pop("CI", None)
    os.environ.update({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"})
    os.execvp("node", ["node", sys.argv[1], "wizard", "--db", sys.argv[2]])
buf = b""; t0 = time.monotonic()
while time.monotonic() - t0 < 60 and b"Looking for the database" not in buf and b"Preconditions" not in buf.split(b"\\x1b[2K")[-1]:
    r, _, _ = select.select([fd], [], [], 0.05)
    if fd in r:
        try: d = os.read(fd, 65536)
        except OSError: break
        if not d: break
        buf += d
os.kill(pid, signal.SIGINT)
t1 = time.monotonic()
while time.monotonic() - t1 < 20:
    r, _, _ = select.select([fd], [], [], 0.1)
    if fd in r:
        try:
            if not os.read(fd, 65536): break
        except OSError: break
    if os.waitpid(pid, os.WNOHANG)[0]: break
else:
    os.kill(pid, signal.SIGKILL)
sys.stdout.write(buf.decode("utf8", "replace"))
`;

describe("the wizard's bundle", () => {
  it("holds only the screens and their dependencies; every other module of ours is imported from dist/", () => {
    expect(existsSync(BUNDLE), "npm run build makes dist/src/ui/start.bundle.js").toBe(true);
    // main.ts loads it only when it is at least as new as the compiled screens.
    expect(statSync(BUNDLE).mtimeMs).toBeGreaterThanOrEqual(statSync(join(UI, "App.js")).mtimeMs);
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

  it("a packed install (npm pack → npm install --omit=dev) carries it and starts the wizard's first screen", async () => {
    const inst = await installedPackage();
    const ui = join(dirname(inst.bin), "..", "ui");
    expect(existsSync(join(ui, "start.bundle.js"))).toBe(true);
    expect(statSync(join(ui, "start.bundle.js")).mtimeMs).toBeGreaterThanOrEqual(statSync(join(ui, "App.js")).mtimeMs);
    const db = join(reachableTmp(), "absent.db");
    const r = await execa("python3", ["-c", PTY, inst.bin, db], { reject: false, timeout: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("Preconditions");
    expect(r.stdout).not.toMatch(/Error|at .*\.js:\d+/);
  });
});

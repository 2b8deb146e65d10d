/**
 * Nothing silent for more than 2 s (operator truth, item 7): while the engine is busy in one
 * synchronous SQLite call (an index build, an integrity check — here the pause hook blocks the main
 * thread the same way), the progress line keeps counting the seconds spent in the phase, drawn by
 * its own clock thread. Judged on a real terminal (tmux), at 60 columns: the line is cut to fit.
 */
import { afterAll, describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { BIN, lockDirEnv, sampleInto, shq, shortTmp } from "../helpers.js";

const session = `vox-quiet-${process.pid}`;
afterAll(() => {
  execaSync("tmux", ["kill-session", "-t", session], { reject: false });
});

function screen(): string {
  return execaSync("tmux", ["capture-pane", "-t", session, "-p"]).stdout;
}

async function waitFor(re: RegExp, ms = 60_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen();
    if (re.test(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`screen never matched ${re}:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a quiet phase shows its time", () => {
  it("export-legacy blocked inside a table: the line counts up the seconds and fits 60 columns; a line printed after it starts clean", async () => {
    const dir = shortTmp();
    const { db } = await sampleInto(dir, 10);
    const out = join(dir, "b.jsonl");
    const env = `env -u CI ${lockDirEnv()} VOX_CUTOVER_PAUSE_AT=export-progress VOX_CUTOVER_PAUSE_MS=4500`;
    const cmd = `${env} node ${shq(BIN)} export-legacy ${shq(out)} --db ${shq(db)}; echo EXIT=$?; sleep 30`;
    execaSync("tmux", ["new-session", "-d", "-s", session, "-x", "60", "-y", "20", cmd]);
    const first = await waitFor(/export: .* … [1-4]s \(/);
    const n1 = Number(/… ([1-4])s \(/.exec(first)![1]);
    const later = await waitFor(new RegExp(`export: .* … [${n1 + 1}-5]s \\(`));
    for (const line of later.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
    // Ctrl-C: handled when the blocked call returns; its one-line note starts on a clean line.
    execaSync("tmux", ["send-keys", "-t", session, "C-c"]);
    const done = await waitFor(/EXIT=\d+/);
    expect(done).toMatch(/EXIT=130/);
    const note = done.split("\n").find((l) => /interrupted/i.test(l));
    expect(note, done).toBeDefined();
    expect(note).not.toMatch(/… \d+s/);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, sha256, sqlite, tmp } from "../helpers.js";

const sessions: string[] = [];
let n = 0;

function start(args: string, opts: { cols?: number; rows?: number; env?: string; cwd?: string } = {}): { name: string; exitFile: string } {
  const name = `vox${process.pid}x${n++}`;
  const exitFile = join(tmp(), "exit");
  const cmd = `cd ${opts.cwd ?? tmp()} && env -u CI -u VOX_DB_PATH -u VOX_DB_URL ${opts.env ?? ""} node ${BIN} ${args}; echo $? > ${exitFile}; sleep 30`;
  execaSync("tmux", ["new-session", "-d", "-s", name, "-x", String(opts.cols ?? 100), "-y", String(opts.rows ?? 30), cmd]);
  sessions.push(name);
  return { name, exitFile };
}

function screen(name: string, escapes = false): string {
  return execaSync("tmux", ["capture-pane", "-t", name, "-p", ...(escapes ? ["-e"] : [])]).stdout;
}

async function waitFor(name: string, re: RegExp, ms = 20_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const s = screen(name);
    if (re.test(s)) return s;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} in:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keys(name: string, ...k: string[]): void {
  execaSync("tmux", ["send-keys", "-t", name, ...k]);
}

async function type(name: string, text: string): Promise<void> {
  execaSync("tmux", ["send-keys", "-t", name, "-l", text]);
  await new Promise((r) => setTimeout(r, 150));
}

async function exitCode(f: string, ms = 15_000): Promise<number> {
  const t0 = Date.now();
  while (!existsSync(f) || !readFileSync(f, "utf8").trim()) {
    if (Date.now() - t0 > ms) throw new Error("the wizard did not exit");
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number(readFileSync(f, "utf8").trim());
}

afterAll(() => {
  for (const s of sessions) {
    try {
      execaSync("tmux", ["kill-session", "-t", s]);
    } catch {
      /* gone */
    }
  }
});

async function sample(rows = 30): Promise<{ dir: string; db: string; orig: string }> {
  const dir = tmp();
  const db = join(dir, "vox.db");
  const r = await cli(["sample", db, "--rows", String(rows)]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return { dir, db, orig: sha256(db) };
}

describe("the wizard in a real terminal (tmux)", () => {
  it("a full cutover of a sample legacy database, driven by keys", async () => {
    const { dir, db, orig } = await sample();
    const side = sha256(join(dir, "vox_training_telemetry.db"));
    const { name, exitFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await waitFor(name, /Continue to Stage 1/);
    keys(name, "Enter");
    await waitFor(name, /Where should the backup go/);
    keys(name, "Enter");
    await waitFor(name, /The plan \(digest [0-9a-f]{16}\)/);
    keys(name, "Enter");
    let s = await waitFor(name, /Type the database's file name \(vox.db\)/);
    expect(s).toMatch(/Destructive step: Swap/);
    await type(name, "vox.db");
    keys(name, "Enter");
    s = await waitFor(name, /Stage 2 — The training-telemetry sidecar/);
    expect(s).toMatch(/training_runs: \d+ rows, \d+ already in the new file/);
    keys(name, "Enter");
    await waitFor(name, /Destructive step: Training-telemetry sidecar/);
    await type(name, "vox.db");
    keys(name, "Enter");
    await waitFor(name, /Stage 3 — Telemetry consumers/);
    keys(name, "Enter");
    s = await waitFor(name, /Done: legacy → current/);
    expect(s).toMatch(/Backup: +\/.*backup.jsonl \(verified\)/);
    expect(s).toMatch(/Roll back: vox-cutover cutover/);
    keys(name, "Enter");
    expect(await exitCode(exitFile)).toBe(0);
    // the independent checker: every row is in the new file or quarantined; the archive is the original
    const runs = readdirSync(join(dir, "vox-cutover-runs"));
    const archive = join(dir, "vox-cutover-runs", runs[0]!, "archive", "vox.db");
    expect(sha256(archive)).toBe(orig);
    expect(sha256(join(dir, "vox-cutover-runs", runs[0]!, "archive", "vox_training_telemetry.db"))).toBe(side);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    expect(sqlite(db, "SELECT group_concat(version) FROM schema_version")).toBe("60");
    const tables = sqlite(archive, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '%fts_%'").split("\n");
    for (const t of tables) {
      const before = Number(sqlite(archive, `SELECT count(*) FROM "${t.replace(/"/g, '""')}"`));
      const quarantined = Number(sqlite(db, `SELECT count(*) FROM legacy_quarantine WHERE source_table = '${t.replace(/'/g, "''")}' AND reason NOT LIKE 'unknown-columns%'`));
      const target = t === "routing_scores" ? "agent_reliability" : t;
      const present = existsTable(db, target) ? Number(sqlite(db, `SELECT count(*) FROM "${target.replace(/"/g, '""')}"`)) : 0;
      if (t === "schema_version") expect(quarantined).toBe(before);
      else if (!["training_runs", "training_step_metrics", "training_telemetry_events", "publication_attempts", "legacy_quarantine", "cutover_ledger"].includes(t)) expect(present + quarantined, t).toBe(before);
      else expect(present, t).toBeGreaterThanOrEqual(before - quarantined);
    }
  }, 90_000);

  it("an operator who only presses Enter never gets past the typed confirmation: the primary is untouched", async () => {
    const { db, orig } = await sample(10);
    const { name, exitFile } = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await waitFor(name, /Continue to Stage 1/);
    keys(name, "Enter");
    await waitFor(name, /Where should the backup go/);
    keys(name, "Enter");
    await waitFor(name, /The plan/);
    keys(name, "Enter");
    await waitFor(name, /Type the database's file name/);
    keys(name, "Enter");
    const s = await waitFor(name, /Cancelled/);
    expect(s).toMatch(/confirmation was not given/);
    keys(name, "Enter");
    expect(await exitCode(exitFile)).toBe(130);
    expect(sha256(db)).toBe(orig);
    // and the next start offers Resume / Roll back
    const again = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await waitFor(again.name, /An unfinished run of this database/);
    keys(again.name, "Down", "Enter");
    await waitFor(again.name, /Continue to Stage 1/);
    expect(sha256(db)).toBe(orig);
    keys(again.name, "q");
    expect(await exitCode(again.exitFile)).toBe(0);
  }, 60_000);

  it("Ctrl-C exits 130 at once when nothing runs, saying nothing changed", async () => {
    const { db } = await sample(5);
    const { name, exitFile } = start(`--db ${db}`);
    await waitFor(name, /Continue to Stage 1/);
    keys(name, "C-c");
    expect(await exitCode(exitFile)).toBe(130);
    expect(screen(name)).toMatch(/Interrupted/);
  }, 30_000);

  it("NO_COLOR turns colour off; without it the current stage is coloured", async () => {
    const { db } = await sample(5);
    const plain = start(`--db ${db}`, { env: "NO_COLOR=1" });
    await waitFor(plain.name, /Continue to Stage 1/);
    expect(screen(plain.name, true)).not.toMatch(/\x1b\[(3[0-7]|9[0-7]|38;)/);
    keys(plain.name, "q");
    const colour = start(`--db ${db}`, { env: "TERM=xterm-256color" });
    await waitFor(colour.name, /Continue to Stage 1/);
    expect(screen(colour.name, true)).toMatch(/\x1b\[(3[0-7]|9[0-7]|38;)/);
    keys(colour.name, "q");
  }, 30_000);

  it.each([
    [80, 24],
    [52, 30],
  ])("fits a %ix%i terminal: the choices and the chain are on screen", async (cols, rows) => {
    const { db } = await sample(5);
    const { name, exitFile } = start(`--db ${db}`, { cols, rows, env: "NO_COLOR=1" });
    const s = await waitFor(name, /Continue to Stage 1/);
    expect(s).toMatch(/Stage 0 — Preconditions/);
    expect(s).toMatch(/LegacySchemaChain/);
    expect(s).toMatch(/Quit/);
    for (const line of s.split("\n")) expect(line.length).toBeLessThanOrEqual(cols);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
  }, 30_000);

  it("with no database anywhere it offers a sample and rehearses on it (npm start for a newcomer)", async () => {
    const home = tmp();
    const { name, exitFile } = start("", { env: `HOME=${home} XDG_DATA_HOME=${home}/xdg NO_COLOR=1`, cwd: home });
    await waitFor(name, /Create a sample legacy database and rehearse on it/);
    keys(name, "Enter");
    const s = await waitFor(name, /Continue to Stage 1/);
    expect(s).toMatch(/REHEARSAL/);
    expect(existsSync(join(home, "xdg", "vox"))).toBe(false);
    keys(name, "q");
    expect(await exitCode(exitFile)).toBe(0);
  }, 30_000);

  it("time to first frame and to the first interactive frame (measured, reported)", async () => {
    const { db } = await sample(5);
    const first: number[] = [];
    const interactive: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const { name } = start(`--db ${db}`, { env: "NO_COLOR=1" });
      await waitFor(name, /vox-cutover/, 10_000);
      first.push(Date.now() - t0);
      await waitFor(name, /0 Preconditions/, 10_000);
      interactive.push(Date.now() - t0);
      keys(name, "q");
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    console.log(`wizard, tmux start included: first frame median ${med(first)} ms (${first.join(", ")}); first Ink frame median ${med(interactive)} ms (${interactive.join(", ")})`);
    expect(med(first)).toBeLessThan(3000);
  }, 60_000);
});

function existsTable(db: string, t: string): boolean {
  return sqlite(db, `SELECT count(*) FROM sqlite_master WHERE name = '${t.replace(/'/g, "''")}'`) === "1";
}

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render } from "ink-testing-library";
import { App, validateBackupPath } from "../../src/ui/App.js";
import type { DecisionAnswer, DecisionRequest, EngineEvent, ImportEvidence } from "../../src/engine/events.js";
import type { RunOutcome } from "../../src/ui/protocol.js";
import type { RollbackPlan } from "../../src/rollback/plan.js";
import { fakeClient, inspection, report } from "./fake-client.js";
import { escapeControls } from "../../src/ui/format.js";
import { tmp } from "../helpers.js";
import { join } from "node:path";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { writeReports } from "../../src/report/render.js";

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));
/**
 * Before a key: lets the effects of the last render run (Ink attaches a screen's key handler in an
 * effect, which React schedules with setImmediate on Node), by turns of the event loop, not by time.
 */
async function inputReady(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
const ENTER = "\r";
const ESC = "\u001b";
const DOWN = "\u001b[B";
const UP = "\u001b[A";
const CTRL_C = "\u0003";
const BACKSPACE = "\u007f";

/** Every console.error / stderr line of a test; none may hold a React warning. */
let errors: string[] = [];
const dirs: string[] = [];
beforeEach(() => {
  errors = [];
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(" ")));
  vi.spyOn(console, "warn").mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  const react = errors.filter((e) => /Warning:|Maximum update depth|React|act\(|Cannot update a component|unique "key"/i.test(e));
  expect(react, `React warnings:\n${react.join("\n")}`).toEqual([]);
});
function scratch(): string {
  const d = tmp();
  dirs.push(d);
  return d;
}

async function until(frame: () => string | undefined, re: RegExp, ms = 4000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const f = frame() ?? "";
    if (re.test(f)) return f;
    await tick(20);
  }
  throw new Error(`timed out waiting for ${re}; last frame:\n${frame()}`);
}

async function eventually(assert: () => void, ms = 4000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      return assert();
    } catch (e) {
      if (Date.now() - t0 > ms) throw e;
      await tick(20);
    }
  }
}

function mount(client: ReturnType<typeof fakeClient>, props: { db?: string; rehearse?: boolean } = {}) {
  const onExit = vi.fn();
  const app = render(<App client={client} db={props.db ?? "/data/vox.db"} rehearse={props.rehearse} onExit={onExit} />);
  return { ...app, onExit };
}

const at = (db: string) => inspection({ resolved: { display: db, why: "given with --db", source: "--db", kind: "file", path: db, warnings: [] } });
type On = { event(e: EngineEvent): void; request(r: DecisionRequest): Promise<DecisionAnswer> };

const PLAN = {
  type: "plan" as const,
  digest: "abcdef0123456789",
  steps: [
    { id: "export", stage: 1, kind: "write" as const, title: "Export every row to the backup", description: "" },
    { id: "verify-backup", stage: 1, kind: "read" as const, title: "Verify the backup", description: "" },
    { id: "build-import", stage: 1, kind: "write" as const, title: "Build the new file and import", description: "" },
    { id: "swap", stage: 1, kind: "destructive" as const, title: "Swap", description: "" },
    { id: "sidecar", stage: 2, kind: "destructive" as const, title: "Training-telemetry sidecar", description: "" },
    { id: "telemetry-check", stage: 3, kind: "read" as const, title: "Telemetry consumers", description: "" },
    { id: "news", stage: 4, kind: "write" as const, title: "Publication/news", description: "" },
  ],
};

const FILE = { dev: "1", ino: "2", size: 1, mtimeNs: "1", fingerprint: "f" };
/** The import's evidence as the build-import step outputs it (src/engine/trial.ts importEvidence). */
const IMPORTED: ImportEvidence = {
  tables: [
    { name: "users", target: "users", rowsIn: 100, loaded: 73, quarantined: 27, reasons: { "not-null": 27 }, partial: 0, columns: [] },
    { name: "posts", target: "posts", rowsIn: 3213, loaded: 3213, quarantined: 0, reasons: {}, partial: 0, columns: [] },
  ],
  rowsIn: 3313,
  loaded: 3286,
  quarantined: 27,
  partial: 0,
  columnsToQuarantine: [],
  orphans: [{ table: "votes", count: 51 }],
  sequences: { entries: 0, restored: 0, quarantined: 0 },
  backupVerified: true,
};

/** The engine's events up to the swap confirmation, with the evidence the steps really output. */
function throughImport(on: On, evidence: ImportEvidence = IMPORTED) {
  on.event(PLAN);
  on.event({ type: "step-start", id: "export", title: "Export" });
  on.event({
    type: "step-done",
    id: "export",
    summary: "3313 rows",
    outputs: {
      path: "/tmp/runs/backup.jsonl",
      sha256: "ab".repeat(32),
      rows: 3313,
      bytes: 1,
      identity: { size: 1, mtimeNs: "1", changeCounter: 1, walSize: null, walMtimeNs: null },
      tables: [],
      file: FILE,
    },
  });
  on.event({ type: "step-start", id: "verify-backup", title: "Verify" });
  on.event({ type: "step-done", id: "verify-backup", summary: "ok", outputs: { verified: true, sha256: "ab".repeat(32), rows: 3313 } });
  on.event({ type: "step-start", id: "build-import", title: "Import" });
  on.event({
    type: "step-done",
    id: "build-import",
    summary: "3286 loaded, 27 quarantined",
    outputs: {
      path: "/tmp/.vox.db.new",
      loaded: 3286,
      quarantined: 27,
      integrity: "ok",
      ftsRebuilt: [],
      sequences: null,
      file: FILE,
      foreignKeyViolations: [{ table: "votes", count: 51 }],
      tables: [
        { name: "users", target: "users", rows: 100, loaded: 73, quarantined: 27, reasons: { "not-null": 27 } },
        { name: "posts", target: "posts", rows: 3213, loaded: 3213, quarantined: 0, reasons: {} },
      ],
      evidence,
    },
  });
}

async function toStage0(c: ReturnType<typeof fakeClient>, db = "/tmp/vox.db") {
  const app = mount(c, { db });
  await until(app.lastFrame, /Continue to Stage 1/);
  await inputReady();
  return app;
}

async function toPlan(c: ReturnType<typeof fakeClient>, db = "/tmp/vox.db") {
  const app = await toStage0(c, db);
  app.stdin.write(ENTER);
  await until(app.lastFrame, /Where should the backup go/);
  await inputReady();
  app.stdin.write(ENTER);
  await until(app.lastFrame, /The plan \(digest abcdef0123456789\)/);
  await inputReady();
  return app;
}

async function toRunning(c: ReturnType<typeof fakeClient>, db = "/tmp/vox.db") {
  const app = await toPlan(c, db);
  app.stdin.write(ENTER);
  return app;
}

function swapClient(after?: (on: On, a: DecisionAnswer) => Promise<RunOutcome>) {
  return fakeClient({
    inspect: () => at("/tmp/vox.db"),
    apply: async (_job, on) => {
      throughImport(on);
      const a = await on.request({
        kind: "confirm",
        step: "swap",
        title: "Swap",
        description: "move vox.db to /tmp/runs/archive/vox.db, put the new file in its place",
        expected: "vox.db",
      });
      if (after) return after(on, a);
      if ("ok" in a && a.ok) return { ok: true, report: report({ mode: "apply", outcome: "completed" }) };
      return { ok: false, error: { kind: "interrupted", message: "Cancelled before swap: the confirmation was not given.", exitCode: 130, cancelled: true } };
    },
  });
}

describe("wizard screens (ink-testing-library)", () => {
  it("Stage 0: preconditions with a mark and a word, the chain in words, keys in the footer that work", async () => {
    const { lastFrame, stdin, onExit, unmount } = await toStage0(fakeClient());
    const f = lastFrame()!;
    expect(f).toMatch(/✓ done +0 Title of resolve — resolve ok/);
    expect(f).toMatch(/old vox schema/);
    expect(f).not.toMatch(/LegacySchemaChain:/);
    expect(f).toMatch(/▸\[0 Preconditions\]/);
    expect(f).toMatch(/↑↓ move · Enter choose · q quit \(nothing changed\) · \? help/);
    expect(f).not.toMatch(/Esc/);
    stdin.write(ESC); // not listed: does nothing
    await tick(80);
    expect(lastFrame()).toMatch(/▸ Continue to Stage 1/);
    stdin.write(DOWN);
    await until(lastFrame, /▸ Rehearse on a clone first/);
    stdin.write(UP);
    await until(lastFrame, /▸ Continue to Stage 1/);
    stdin.write("?");
    await until(lastFrame, /Help: Stage 0 checks the preconditions/);
    expect(lastFrame()).toMatch(/Continue to Stage 1/); // the body stays under the help
    stdin.write("?");
    await eventually(() => expect(lastFrame()).not.toMatch(/Help:/));
    stdin.write("q");
    await eventually(() => expect(onExit).toHaveBeenCalledWith(0, "Nothing was changed."));
    unmount();
  });

  it("Stage 0 names the target; with a vox on PATH whose baseline differs it offers that target and plans again against it", async () => {
    let kind: "bundled" | "vox" = "bundled";
    const c = fakeClient({
      inspect: () =>
        inspection({
          target: {
            kind,
            origin: kind === "bundled" ? "bundled vox baseline 66" : "the operator's vox (vox 0.67.0)",
            version: kind === "bundled" ? 66 : 67,
            vox: { version: 67, voxVersion: "vox 0.67.0", agrees: false, differences: 2, bundledVersion: 66 },
          },
        }),
    });
    const { lastFrame, stdin, unmount } = await toStage0(c);
    expect(lastFrame()!.replace(/\s+/g, " ")).toMatch(
      /Target: bundled vox baseline 66; your vox \(vox 0.67.0\) is at baseline 67 and differs from the bundled baseline 66 in 2 table\(s\)/,
    );
    stdin.write(DOWN);
    await until(lastFrame, /▸ Use your vox's baseline 67 as the target instead/);
    kind = "vox";
    stdin.write(ENTER);
    await until(() => lastFrame()?.replace(/\s+/g, " "), /Target: the operator's vox \(vox 0.67.0\) \(baseline 67\)/);
    expect(c.calls.filter((x) => x.type === "use-target").map((x) => x.arg)).toEqual(["vox"]);
    expect(c.calls.filter((x) => x.type === "inspect")).toHaveLength(2);
    expect(lastFrame()).toMatch(/Use the bundled baseline 66 instead/);
    unmount();
  });

  it("while Stage 0's dry-run makes its trial import, the loading screen says so, with progress", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const c = fakeClient({
      plan: async (on) => {
        on.event({ type: "step-start", id: "trial-import", title: "Trial import (dry-run)" });
        on.event({ type: "step-progress", id: "trial-import", done: 500, total: 1000, label: "import users" });
        await gate;
        return { ok: true, report: report() };
      },
    });
    const { lastFrame, unmount } = mount(c);
    const f = await until(() => lastFrame()?.replace(/\s+/g, " "), /trial import into a scratch folder .*: 50 % \(import users\)/);
    expect(f).not.toMatch(/Continue to Stage 1/);
    release();
    await until(lastFrame, /Continue to Stage 1/);
    unmount();
  });

  it("the plan names the trial's values read whole (issue 17) and where they are listed", async () => {
    const trial: ImportEvidence & { kept: string } = {
      ...IMPORTED,
      readWhole: [{ table: "own_wr", values: 2, reason: "WITHOUT ROWID: each value above 64 KB was read whole by the export" }],
      kept: "/tmp/vox-cutover-trials-0/0123456789abcdef0123",
    };
    const workDir = "/tmp/vox-cutover-runs/20260101T000000Z";
    const c = fakeClient({
      plan: () => ({ ok: true, report: report({ trial, workDir, backup: { path: `${workDir}/backup.jsonl`, verified: false, sha256: null } }) }),
    });
    const app = await toPlan(c);
    expect(app.lastFrame()!.replace(/\s+/g, " ")).toContain(
      "Trial import (the apply's export and build, kept for it): 3,286 of 3,313 rows would load, 27 go to legacy_quarantine; large values read whole in 1 table (the swap's confirmation names them)",
    );
    app.unmount();
    // Not kept (VOX_CUTOVER_KEEP_TRIAL=0, a gate that would refuse the apply): the plan does not promise it.
    const { kept: _kept, ...removed } = trial;
    const c2 = fakeClient({
      plan: () => ({ ok: true, report: report({ trial: removed, workDir, backup: { path: `${workDir}/backup.jsonl`, verified: false, sha256: null } }) }),
    });
    const app2 = await toPlan(c2);
    expect(app2.lastFrame()!.replace(/\s+/g, " ")).toContain("Trial import (into a scratch folder, removed): 3,286 of 3,313 rows would load");
    app2.unmount();
  });

  it("with a vox that agrees with the bundled baseline, Stage 0 says so and offers nothing more", async () => {
    const c = fakeClient({
      inspect: () =>
        inspection({
          target: {
            kind: "bundled",
            origin: "bundled vox baseline 66",
            version: 66,
            vox: { version: 66, voxVersion: null, agrees: true, differences: 0, bundledVersion: 66 },
          },
        }),
    });
    const { lastFrame, unmount } = await toStage0(c);
    expect(lastFrame()!.replace(/\s+/g, " ")).toMatch(/your vox is at baseline 66 and agrees with the bundled baseline/);
    expect(lastFrame()).not.toMatch(/as the target instead/);
    unmount();
  });

  it("a refused preflight: its reason, Check again / Quit only; Quit exits 3 saying nothing changed", async () => {
    const c = fakeClient({ plan: () => ({ ok: false, error: { kind: "refused", message: "Not enough free disk space beside /data/vox.db", exitCode: 3 } }) });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    const f = await until(lastFrame, /Not enough free disk space/);
    expect(f).toMatch(/✗ failed/);
    expect(f).not.toMatch(/Continue to Stage 1/);
    await inputReady();
    stdin.write(DOWN);
    await inputReady();
    stdin.write(ENTER);
    await eventually(() => expect(onExit).toHaveBeenCalledWith(3, "Nothing was changed."));
    unmount();
  });

  it("an apply-time gate that would refuse (another process holds the file) is shown before Start, wrapped in full; no Continue; Quit exits 3", async () => {
    const why =
      "--apply would be refused now: Another process holds the database /data/vox.db open (an application still running?): pid 4242 (python3 -c \\nimport sqlite3) has /data/vox.db open. Stop that application (vox, a service, a sqlite3 shell), then run the command again.";
    const blocked = report({
      steps: [
        ...report().steps.slice(0, 2),
        {
          id: "holders",
          stage: 0,
          kind: "read",
          title: "No other process has the file open",
          status: "done",
          summary: "--apply would be refused now (below: why, and what to do)",
          warnings: [why],
        },
        ...report().steps.slice(2),
      ],
    });
    const c = fakeClient({ plan: () => ({ ok: true, report: blocked }) });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    const f = await until(lastFrame, /Check again/);
    const flat = f.replace(/\s+/g, " ");
    expect(flat).toContain("pid 4242 (python3 -c \\nimport sqlite3) has /data/vox.db open"); // whole, the newline escaped
    expect(flat).toMatch(/Start is not offered while it would be refused\. Nothing was changed\./);
    expect(f).not.toMatch(/Continue to Stage 1/);
    expect(f).toMatch(/Rehearse on a clone first/); // a clone is not held by the application
    await inputReady();
    stdin.write(ENTER); // Check again: plans again (the engine runs the gates again)
    await eventually(() => expect(c.calls.filter((x) => x.type === "run")).toHaveLength(2));
    await until(lastFrame, /Check again/);
    await inputReady();
    stdin.write("q");
    await eventually(() => expect(onExit).toHaveBeenCalledWith(3, "Nothing was changed."));
    unmount();
  });

  it("backup path: typed fast with no React warning, validated as typed, q is text, ~ expands, Esc goes back", async () => {
    const dir = scratch();
    const db = join(dir, "vox.db");
    writeFileSync(db, "");
    const c = fakeClient({ inspect: () => at(db) });
    const { lastFrame, stdin, unmount } = await toStage0(c, db);
    stdin.write(ENTER);
    let f = await until(lastFrame, /Where should the backup go/);
    expect(f).toContain(join(dir, "vox-cutover-runs"));
    expect(f).toMatch(/✓ looks good/);
    expect(f).toMatch(/type a path \(~ is your home\) · Enter accept · Esc back · Ctrl-C quit \(nothing changed\)/);
    for (let i = 0; i < 120; i++) stdin.write(BACKSPACE); // the flood that used to loop
    for (const ch of "q/") stdin.write(ch);
    f = await until(lastFrame, /names a folder/);
    expect(f).toMatch(/> q\//);
    stdin.write(BACKSPACE.repeat(5)); // a burst of backspaces in one chunk deletes five characters
    await until(lastFrame, /> █/);
    // A shell's line keys: Ctrl-W the path's last part, Ctrl-A/Ctrl-E start and end, Ctrl-K after the cursor, Ctrl-U before it.
    stdin.write("/tmp/ab/cd");
    await until(lastFrame, /> \/tmp\/ab\/cd█/);
    stdin.write("\u0017"); // Ctrl-W
    await until(lastFrame, /> \/tmp\/ab\/█/);
    stdin.write("\u0001"); // Ctrl-A
    await inputReady();
    stdin.write("\u0005"); // Ctrl-E: the end again, where typing goes on
    await inputReady();
    stdin.write("e");
    await until(lastFrame, /> \/tmp\/ab\/e█/);
    stdin.write("\u0001"); // Ctrl-A, then Ctrl-K: everything after the start
    await inputReady();
    stdin.write("\u000b");
    await until(lastFrame, /> █/);
    stdin.write("/x/y");
    await until(lastFrame, /> \/x\/y█/);
    stdin.write("\u0015"); // Ctrl-U: everything before the cursor
    await until(lastFrame, /> █/);
    stdin.write(`~/b.jsonl`);
    await tick(80);
    const home = process.env.HOME;
    process.env.HOME = scratch();
    try {
      stdin.write("x"); // revalidated with HOME set
      await until(lastFrame, /✓ looks good/);
    } finally {
      process.env.HOME = home; // put back: the next test file runs in this process
    }
    stdin.write(ESC);
    await until(lastFrame, /Stage 0 — Preconditions/);
    unmount();
  });

  it("escapeControls: tabs, newlines and escapes in ids and typed text are shown, never obeyed", () => {
    expect(escapeControls("a\tb\nc\u001b[31md")).toBe("a\\tb\\nc\\x1b[31md");
    expect(escapeControls("plain vox.db")).toBe("plain vox.db");
  });

  it("validateBackupPath refuses the database, an existing file, a missing folder; accepts the plan's own work dir", () => {
    const dir = scratch();
    const db = join(dir, "vox.db");
    writeFileSync(db, "x");
    writeFileSync(join(dir, "old.jsonl"), "x");
    expect(validateBackupPath(db, db)).toMatch(/database itself/);
    expect(validateBackupPath(`${db}-wal`, db)).toMatch(/database itself/);
    expect(validateBackupPath(join(dir, "old.jsonl"), db)).toMatch(/already there/);
    expect(validateBackupPath(join(dir, "nope", "b.jsonl"), db)).toMatch(/does not exist/);
    expect(validateBackupPath(join(dir, "nope", "b.jsonl"), db, join(dir, "nope"))).toBeUndefined();
    expect(validateBackupPath(dir, db)).toMatch(/folder/);
    expect(validateBackupPath(join(dir, "sub") + "/", db)).toMatch(/names a folder/);
    expect(validateBackupPath(join(dir, "b.jsonl"), db)).toBeUndefined();
    expect(validateBackupPath(join(dir, "vox-cutover-runs", "20260101T000000Z", "backup.jsonl"), db)).toBeUndefined();
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      expect(validateBackupPath("~/old.jsonl", db)).toMatch(/already there/);
    } finally {
      process.env.HOME = home;
    }
  });

  it("plan: ↑↓ Enter Esc q ? all do what the footer says", async () => {
    const c = fakeClient({ inspect: () => at("/tmp/vox.db") });
    const app = await toPlan(c);
    let f = app.lastFrame()!;
    expect(f).toMatch(/↑↓ move · Enter choose · Esc back · q quit \(nothing changed\) · \? help/);
    expect(f).toMatch(/\[destructive\] Title of swap/);
    app.stdin.write("?");
    await until(app.lastFrame, /Help: Every step of the run/);
    app.stdin.write("?");
    app.stdin.write(DOWN);
    await until(app.lastFrame, /▸ Back/);
    app.stdin.write(ENTER);
    await until(app.lastFrame, /Where should the backup go/);
    await inputReady();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /The plan/);
    await inputReady();
    app.stdin.write(ESC);
    await until(app.lastFrame, /Where should the backup go/);
    await inputReady();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /The plan/);
    await inputReady();
    app.stdin.write("q");
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(0, "Nothing was changed."));
    f = app.lastFrame()!;
    expect(c.calls.filter((x) => x.type === "run" && (x.arg as { apply: boolean }).apply)).toEqual([]);
    app.unmount();
  });

  it("the swap confirmation shows the evidence; `vox.db` and Enter in one burst proceeds", async () => {
    const c = swapClient();
    const app = await toRunning(c);
    const f = await until(app.lastFrame, /Type the file's name \(vox.db\)/);
    expect(f).toMatch(/Destructive step: Swap/);
    expect(f).toMatch(/Backup: verified \(3,313 rows re-read/);
    expect(f).toMatch(/Rows: 3,313 in the old file → 3,286 loaded, 27 quarantined \(2 tables\)/);
    expect(f).toMatch(/users: 100 in, 73 loaded, 27 quarantined — not-null 27/);
    expect(f).toMatch(/Columns whose values go to legacy_quarantine: none/); // the import's evidence, from the run's state
    expect(f).toMatch(/Foreign-key orphans carried over: 51 in 1 table\(s\) \(votes 51\)/);
    expect(f).toMatch(/Esc cancel here/);
    await inputReady();
    app.stdin.write("vox.db\r"); // a paste with its newline
    await eventually(() => expect(c.answers).toEqual([{ ok: true }]));
    app.unmount();
  });

  it("evidence the engine sends with the request (its trial import's columns) is shown too", async () => {
    const c = fakeClient({
      inspect: () => at("/tmp/vox.db"),
      apply: async (_job, on) => {
        throughImport(on);
        const req = {
          kind: "confirm",
          step: "swap",
          title: "Swap",
          description: "swap",
          expected: "vox.db",
          evidence: {
            ...IMPORTED,
            columnsToQuarantine: [{ table: "users", column: "karma", nonNull: 47 }],
            // The operator's own objects (issue 17): one carried, one not — shown with its SQL and reason.
            objects: {
              carried: [{ type: "index", name: "op_users_display", table: "users" }],
              notCarried: [{ type: "view", name: "op_bm", table: "bm", sql: "CREATE VIEW op_bm AS SELECT url FROM bm", reason: "no such table: main.bm" }],
            },
          },
        } as DecisionRequest;
        const a = await on.request(req);
        return "ok" in a && a.ok
          ? { ok: true, report: report({ outcome: "completed" }) }
          : { ok: false, error: { kind: "interrupted", message: "Cancelled", exitCode: 130, cancelled: true } };
      },
    });
    const app = await toRunning(c);
    const f = await until(app.lastFrame, /Type the file's name/);
    expect(f).toMatch(/Columns whose values go to legacy_quarantine: users.karma \(47 non-null\)/);
    expect(f).toMatch(/Backup: verified \(3,313 rows/);
    expect(f).toMatch(/Indexes, triggers, views the target lacks: 1 carried, 1 not carried \(kept in the archive\)/);
    expect(f).toMatch(/view op_bm: no such table: main\.bm — CREATE VIEW op_bm AS SELECT url FROM bm/);
    app.unmount();
  });

  it("values read whole (issue 17) come through the run's events and are named on the swap screen in report.md's words", async () => {
    const readWhole = [
      {
        table: "own_wr",
        values: 1,
        reason: "WITHOUT ROWID: each value above 64 KB was read whole by the export (memory grows with the value; the bytes are exact)",
      },
      { table: "agent_sessions", values: 3, reason: "UTF-16 file: each TEXT above 64 KB was read whole by the export and is bound whole by the import" },
    ];
    const c = fakeClient({
      inspect: () => at("/tmp/vox.db"),
      apply: async (_job, on) => {
        throughImport(on, { ...IMPORTED, readWhole }); // the build-import step's output: no evidence sent with the request
        const a = await on.request({ kind: "confirm", step: "swap", title: "Swap", description: "swap", expected: "vox.db" });
        return "ok" in a && a.ok
          ? { ok: true, report: report({ outcome: "completed" }) }
          : { ok: false, error: { kind: "interrupted", message: "Cancelled", exitCode: 130, cancelled: true } };
      },
    });
    const app = await toRunning(c);
    const f = (await until(app.lastFrame, /Type the file's name/)).replace(/\s+/g, " ");
    expect(f).toContain("Large values read whole: 2 tables");
    expect(f).toContain("own_wr: 1 large value read whole — WITHOUT ROWID: each value above 64 KB was read whole by the export");
    expect(f).toContain("agent_sessions: 3 large values read whole — UTF-16 file: each TEXT above 64 KB");
    // The same sentence report.md gives under its heading.
    const dir = tmp();
    writeReports(report({ outcome: "completed", readWhole }), dir);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    rmSync(dir, { recursive: true, force: true });
    expect(md).toContain("## Large values read whole");
    expect(md).toContain("- own_wr: 1 large value read whole — WITHOUT ROWID: each value above 64 KB was read whole by the export");
    app.unmount();
  });

  it("typed fast, key by key, Enter at once: still exactly what was typed", async () => {
    const c = swapClient();
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name/);
    await inputReady();
    for (const ch of "vox.db") app.stdin.write(ch);
    app.stdin.write(ENTER);
    await eventually(() => expect(c.answers).toEqual([{ ok: true }]));
    app.unmount();
  });

  it("an empty answer asks again; q and ? are text; a mistyped name asks again and says so", async () => {
    const c = swapClient();
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name/);
    app.stdin.write(ENTER);
    await until(app.lastFrame, /An empty answer confirms nothing/);
    expect(c.answers).toEqual([]);
    await inputReady();
    app.stdin.write("q?x");
    await until(app.lastFrame, /> q\?x/);
    expect(app.onExit).not.toHaveBeenCalled();
    app.stdin.write(ENTER);
    const g = await until(app.lastFrame, /is not vox\.db: nothing was done/);
    expect(g.replace(/\s+/g, " ")).toMatch(/"q\?x" is not vox\.db: nothing was done\. Type vox\.db to proceed, or Esc to cancel this step\./);
    expect(c.answers).toEqual([]); // a typo is not a decision: the engine was not answered
    await inputReady();
    app.stdin.write("vox.db");
    await inputReady();
    app.stdin.write(ENTER);
    await eventually(() => expect(c.answers).toEqual([{ ok: true }]));
    await eventually(() => expect(app.lastFrame()).toMatch(/Done/));
    app.unmount();
  });

  it("Esc at the confirmation cancels that step (it never runs it), and the next screen offers to resume at once", async () => {
    const jobs: unknown[] = [];
    const c = swapClient();
    const inner = c.run.bind(c);
    c.run = async (job, on) => {
      jobs.push(job);
      return inner(job, on);
    };
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name/);
    app.stdin.write(ESC);
    await eventually(() => expect(c.answers).toEqual([{ ok: false }]));
    const f = await until(app.lastFrame, /Resume now \(asks again before that step\)/);
    expect(f).toMatch(/Cancelled/);
    expect(app.onExit).not.toHaveBeenCalled();
    app.stdin.write(ENTER); // Resume now
    await until(app.lastFrame, /Type the file's name/);
    expect(jobs.at(-1)).toMatchObject({ apply: true, resume: true });
    app.stdin.write("vox.db" + ENTER);
    await eventually(() => expect(app.lastFrame()).toMatch(/Done/));
    app.unmount();
  });

  it("a telemetry path that does not exist is a question again at the prompt, never an envelope violation", async () => {
    const d = scratch();
    const good = join(d, "t.jsonl");
    writeFileSync(good, '{"event":"step","payload":{},"ts_ms":1}\n');
    let files: unknown;
    const c = swapClient(async (on) => {
      const t = await on.request({ kind: "telemetry", suggested: [] });
      files = t;
      return { ok: true, report: report({ mode: "apply", outcome: "completed" }) };
    });
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name/);
    app.stdin.write("vox.db" + ENTER);
    await until(app.lastFrame, /Stage 3 — Telemetry consumers/);
    await inputReady();
    app.stdin.write(join(d, "typo.jsonl") + " " + d);
    await inputReady();
    app.stdin.write(ENTER);
    const f = (await until(app.lastFrame, /Nothing was\s+checked/)).replace(/\s+/g, "");
    expect(f).toContain(`thereisnofile${join(d, "typo.jsonl")}`.replace(/\s+/g, ""));
    expect(f).toContain(`${d}isafolder`.replace(/\s+/g, ""));
    expect(files).toBeUndefined();
    // the typed text stays in the field to be corrected
    for (let i = 0; i < (join(d, "typo.jsonl") + " " + d).length; i++) app.stdin.write(BACKSPACE);
    await inputReady();
    app.stdin.write(good);
    await inputReady();
    app.stdin.write(ENTER);
    await eventually(() => expect(files).toEqual({ files: [good] }));
    app.unmount();
  });

  it("an engine call other than a run that fails (a malformed contract at inspect) is an error screen with what/untouched/next and a clean exit code", async () => {
    const c = fakeClient();
    c.inspect = async () => {
      throw {
        kind: "failed",
        message:
          "The contract file contracts/db/baseline-version-policy.yaml is not valid YAML (line 3). Nothing was changed. Fix the file (git checkout contracts/) and run again.",
        exitCode: 1,
        untouched: "Nothing was changed.",
        next: "Fix the file (git checkout contracts/) and run again.",
      };
    };
    const app = mount(c);
    const f = await until(app.lastFrame, /Failed while looking at the database/);
    expect(f.replace(/\s+/g, " ")).toMatch(/not valid YAML \(line 3\)\. Nothing was changed\. Fix the file/);
    expect(f).not.toMatch(/no run had started|Next: fix what is named/); // the engine said both itself
    expect(f).toMatch(/Enter\/q leave/);
    app.stdin.write(ENTER);
    await eventually(() =>
      expect(app.onExit).toHaveBeenCalledWith(1, expect.stringMatching(/^Failed while looking at the database: The contract file .* not valid YAML/)),
    );
    app.unmount();
  });

  it("a plain error from the engine (no what/untouched/next of its own) gets them from the wizard", async () => {
    const c = fakeClient();
    c.clone = async () => {
      throw new Error("ENOSPC: no space left on device, copyfile");
    };
    const app = mount(c, { rehearse: true });
    const f = (await until(app.lastFrame, /Failed while cloning the database/)).replace(/\s+/g, " ");
    expect(f).toMatch(
      /ENOSPC: no space left on device, copyfile Nothing was written: no run had started, and the database was only read\. Next: fix what is named above/,
    );
    app.stdin.write("q");
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(1, expect.stringMatching(/Failed while cloning/)));
    app.unmount();
  });

  it("a full run: progress with phase and a smoothed rate, sidecar asks for its own name, Esc at Stage 3 runs nothing, marks and 'Done with N problems'", async () => {
    let firstFrame = "";
    let laterFrame = "";
    let telemetryEsc = "";
    const c = swapClient(async (on, a) => {
      expect(a).toEqual({ ok: true });
      on.event({ type: "step-start", id: "swap", title: "Swap" });
      on.event({ type: "step-done", id: "swap", summary: "old file archived", outputs: { archive: "/tmp/runs/archive/vox.db" } });
      const s = await on.request({
        kind: "sidecar",
        path: "/tmp/vox_training_telemetry.db",
        tables: [{ name: "training_runs", rows: 5, present: 3, merged: 1, conflicts: 1, mergeable: true }],
      });
      expect(s).toEqual({ merge: false });
      const sc = await on.request({
        kind: "confirm",
        step: "sidecar",
        title: "Training-telemetry sidecar",
        description: "move vox_training_telemetry.db to the archive",
        expected: "vox.db",
      });
      expect(sc).toEqual({ ok: true });
      on.event({ type: "step-start", id: "sidecar", title: "Sidecar" });
      on.event({ type: "step-done", id: "sidecar", summary: "archived", outputs: { exists: true, merged: 0, conflicts: 0 } });
      const t = await on.request({ kind: "telemetry", suggested: ["/tmp/t.jsonl"] });
      telemetryEsc = app.lastFrame()!;
      expect(t).toEqual({ files: [] });
      on.event({ type: "step-start", id: "telemetry-check", title: "T" });
      on.event({ type: "step-done", id: "telemetry-check", summary: "skipped: no files named", outputs: { skipped: true }, skipped: true });
      on.event({ type: "step-start", id: "news", title: "News" });
      on.event({ type: "step-progress", id: "news", done: 16384, total: 100000 });
      await tick(60);
      firstFrame = app.lastFrame()!;
      await tick(300);
      on.event({ type: "step-progress", id: "news", done: 32768, total: 100000, label: "news" });
      await tick(60);
      laterFrame = app.lastFrame()!;
      on.event({
        type: "step-done",
        id: "news",
        summary: "40 digests checked, 1000 mismatch(es)",
        outputs: { mismatches: 1000 },
        warnings: ["1,000 publication digest mismatch(es) (run news-check for the list)"],
      });
      const done = report({
        mode: "apply",
        outcome: "completed",
        after: { chain: "current" },
        backup: { path: "/tmp/runs/backup.jsonl", verified: true, sha256: "x" },
        archive: { path: "/tmp/runs/archive/vox.db" },
        quarantined: 27,
        quarantineTable: { rows: 75, byReason: { "not-null": 27, "unknown-columns": 47, "sidecar-conflict": 1 } },
        tables: [{ name: "users", target: "users", rowsBefore: 100, rowsAfter: 73, quarantined: 27 }],
      });
      // As the engine's report carries it: the step's warnings (the summary's problems are read from the report).
      done.steps = done.steps.map((x) =>
        x.id === "news"
          ? { ...x, title: "Publication/news", status: "done", warnings: ["1,000 publication digest mismatch(es) (run news-check for the list)"] }
          : x,
      );
      return { ok: true, report: done };
    });
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name \(vox.db\)/);
    app.stdin.write("vox.db\r");
    await until(app.lastFrame, /Stage 2 — The training-telemetry sidecar/);
    expect(app.lastFrame()).toMatch(/training_runs: 5 rows, 3 already in the new file, 1 missing, 1 conflicting/);
    expect(app.lastFrame()).toMatch(/↑↓ move · Enter choose · q\/Ctrl-C stop before Stage 2/);
    await inputReady();
    app.stdin.write(DOWN);
    await inputReady();
    app.stdin.write(ENTER);
    let f = await until(app.lastFrame, /Type the file's name \(vox_training_telemetry\.db\)/);
    expect(f).toMatch(/▸\[2 Sidecar\]/); // the tab of the step being confirmed
    expect(f).toMatch(/training_runs: 5 rows/);
    app.stdin.write("vox_training_telemetry.db\r");
    await until(app.lastFrame, /Stage 3 — Telemetry consumers/);
    await inputReady();
    app.stdin.write(ESC); // never runs a step
    await tick(150);
    expect(app.lastFrame()).toMatch(/Stage 3 — Telemetry consumers/);
    expect(c.answers.length).toBe(3);
    for (let i = 0; i < 20; i++) app.stdin.write(BACKSPACE);
    app.stdin.write(ENTER);
    f = await until(app.lastFrame, /Done with 1 problem/);
    expect(telemetryEsc).toMatch(/Stage 3 — Telemetry consumers/); // the answer came from Stage 3's own screen, after the Esc
    expect(firstFrame).toMatch(/measuring the rate/);
    expect(firstFrame).not.toMatch(/\d rows\/s/);
    expect(laterFrame).toMatch(/32,768\/100,000 rows · [\d,]+ rows\/s · ETA/);
    expect(f).toMatch(/! Publication\/news: 1,000 publication digest mismatch/);
    expect(f).toMatch(/! warnings +4 Publication\/news/);
    expect(f).toMatch(/– skipped +3 Telemetry consumers/);
    expect(f).not.toMatch(/✓ done +4 Publication/);
    expect(f).toMatch(/Archive: \/tmp\/runs\/archive\/vox.db/);
    // The summary's quarantine count is the table's, with what makes it up.
    expect(f.replace(/\s+/g, " ")).toMatch(/legacy_quarantine holds 75 row\(s\): 27 not-null, 47 unknown-columns, 1 sidecar-conflict/);
    // No final counts in this report: the numbers say they are the import's (after Stage 1).
    expect(f.replace(/\s+/g, " ")).toMatch(/Rows: 100 rows in the old file → 73 loaded after Stage 1 \(the import\), 27 to legacy_quarantine/);
    expect(f).toMatch(/▸\[Summary\]/);
    expect(f).toMatch(/↑↓ move · Enter choose · q leave · \? help/);
    app.stdin.write("q");
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(0, expect.stringMatching(/^Cut over: \/tmp\/vox.db is now current/)));
    app.unmount();
  });

  it("q while a step runs: 'Stopping after …' at once; a second Ctrl-C says how to force; a third forces", async () => {
    let release: () => void = () => {};
    const c = fakeClient({
      inspect: () => at("/tmp/vox.db"),
      apply: async (_job, on) => {
        on.event(PLAN);
        on.event({ type: "step-start", id: "export", title: "Export" });
        on.event({ type: "step-progress", id: "export", done: 10, total: 1000, label: "users" });
        await new Promise<void>((r) => (release = r));
        return { ok: false, error: { kind: "interrupted", message: "Interrupted (SIGINT) at a safe point: during the export.", exitCode: 130 } };
      },
    });
    const app = await toRunning(c);
    let f = await until(app.lastFrame, /▸ running +1 Export every row/);
    expect(f).toMatch(/q\/Ctrl-C stop at the next safe point · \? help/);
    app.stdin.write("?");
    f = await until(app.lastFrame, /Help: Steps run in order/);
    expect(f).toMatch(/copying rows to the backup — users/); // progress stays visible under ?
    app.stdin.write("q");
    f = await until(app.lastFrame, /Stopping after the current batch of rows of "Export every row to the backup" \(about 1 s\)/);
    expect(c.calls.map((x) => x.type)).toContain("cancel");
    app.stdin.write(CTRL_C);
    f = await until(app.lastFrame, /To force it, press Ctrl-C once more/);
    expect(f).toMatch(/stale lock/);
    app.stdin.write(CTRL_C);
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(130, expect.stringMatching(/Forced quit/)));
    release();
    app.unmount();
  });

  it("Ctrl-C once while a step runs stops at the safe point and exits with what is on disk", async () => {
    let release: () => void = () => {};
    const c = fakeClient({
      inspect: () => at("/tmp/vox.db"),
      apply: async (_job, on) => {
        on.event(PLAN);
        on.event({ type: "step-start", id: "export", title: "Export" });
        await new Promise<void>((r) => (release = r));
        return {
          ok: false,
          error: {
            kind: "interrupted",
            message: "Interrupted (SIGINT) at a safe point: before verify-backup. The primary /tmp/vox.db is untouched.",
            exitCode: 130,
          },
        };
      },
    });
    const app = await toRunning(c);
    await until(app.lastFrame, /▸ running/);
    app.stdin.write(CTRL_C);
    await until(app.lastFrame, /Stopping after "Export every row to the backup" finishes/);
    release();
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(130, expect.stringMatching(/primary \/tmp\/vox.db is untouched.*Resume/)));
    app.unmount();
  });

  it("stopped during Stage 0 of the run: the note says nothing was written and offers no Resume", async () => {
    let release: () => void = () => {};
    const c = fakeClient({
      inspect: () => at("/tmp/vox.db"),
      apply: async (_job, on) => {
        on.event({
          type: "plan",
          digest: "d",
          steps: [{ id: "integrity", stage: 0, kind: "read", title: "Integrity of the primary", description: "" }, ...PLAN.steps],
        });
        on.event({ type: "step-start", id: "integrity", title: "Integrity" });
        await new Promise<void>((r) => (release = r));
        return {
          ok: false,
          error: { kind: "interrupted", message: "Interrupted (SIGINT) at a safe point: after integrity (nothing was written).", exitCode: 130 },
        };
      },
    });
    const app = await toRunning(c);
    await until(app.lastFrame, /▸ running +0 Integrity/);
    app.stdin.write("q");
    await until(app.lastFrame, /Stopping after "Integrity of the primary" finishes/);
    release();
    await eventually(() =>
      expect(app.onExit).toHaveBeenCalledWith(130, expect.stringMatching(/before anything was written: nothing was changed and there is nothing to resume/)),
    );
    expect(app.onExit.mock.calls[0]![1]).not.toMatch(/offers Resume/);
    app.unmount();
  });

  it("Ctrl-C when nothing runs exits 130 and says nothing changed", async () => {
    const app = await toStage0(fakeClient());
    app.stdin.write(CTRL_C);
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(130, "Interrupted. Nothing was changed."));
    app.unmount();
  });

  it("reopen: stages and files, not step ids; Resume resumes; q leaves the run recorded", async () => {
    const c = fakeClient({
      inspect: () =>
        inspection({
          unfinished: {
            workDir: "/data/vox-cutover-runs/x",
            lastStep: "build-import",
            lastStepTitle: "Build the new file and import",
            lastStepStage: 1,
            swapPhase: "none",
            runId: "r",
            interrupted: true,
            resumable: true,
            backupPath: "/data/vox-cutover-runs/x/backup.jsonl",
            backupExists: true,
          },
        }),
    });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    const f = await until(lastFrame, /An unfinished cutover of vox.db/);
    expect(f).toMatch(/It stopped in Stage 1 \(Legacy chain\) at "Build the new file and import", stopped on request/);
    expect(f).toMatch(/The original vox.db was never moved/);
    expect(f).toMatch(/Backup: \/data\/vox-cutover-runs\/x\/backup.jsonl/);
    expect(f).not.toMatch(/build-import|swap phase/);
    expect(f).toMatch(/▸ Resume it/);
    expect(f).toMatch(/q quit \(the run stays recorded\)/);
    await inputReady();
    stdin.write("q");
    await eventually(() =>
      expect(onExit).toHaveBeenCalledWith(0, expect.stringMatching(/Nothing was changed. The unfinished run is still recorded in \/data\/vox-cutover-runs\/x/)),
    );
    unmount();
    const again = mount(c);
    await until(again.lastFrame, /Resume it/);
    await inputReady();
    again.stdin.write(ENTER);
    await eventually(() =>
      expect(c.calls.find((x) => x.type === "run")?.arg).toMatchObject({ apply: true, resume: true, workDir: "/data/vox-cutover-runs/x" }),
    );
    again.unmount();
  });

  it("after the live-write gate fired, Resume is not offered and Roll back is highlighted; roll back asks for the name, then says what moved", async () => {
    const rollback: RollbackPlan = {
      runId: "r",
      dbPath: "/data/vox.db",
      workDir: "/data/vox-cutover-runs/x",
      archiveDir: "/data/vox-cutover-runs/x/archive",
      finished: false,
      swapPhase: "none",
      actions: [{ kind: "remove-temp", path: "/data/.vox.db.vox-cutover-new", newFile: true }],
      backupKept: "/data/b.jsonl",
      refusal: null,
    };
    const c = fakeClient({
      inspect: () =>
        inspection({
          unfinished: {
            workDir: "/data/vox-cutover-runs/x",
            lastStep: "primary-unchanged",
            lastStepTitle: "Primary unchanged since the export",
            lastStepStage: 1,
            swapPhase: "none",
            runId: "r",
            failed: { step: "primary-unchanged", message: "The primary changed since the export" },
            resumable: false,
            whyNot: "the primary was written to after the export",
            newPath: "/data/.vox.db.vox-cutover-new",
            newExists: true,
            backupPath: "/data/b.jsonl",
            rollback: {
              runId: "r",
              dbPath: "/data/vox.db",
              workDir: "/data/vox-cutover-runs/x",
              archiveDir: "/data/vox-cutover-runs/x/archive",
              finished: false,
              swapPhase: "none",
              actions: [{ kind: "remove-temp", path: "/data/.vox.db.vox-cutover-new", newFile: true }],
              backupKept: "/data/b.jsonl",
              refusal: null,
            },
          },
        }),
      apply: async (job) => {
        expect(job).toMatchObject({ rollback: true, workDir: "/data/vox-cutover-runs/x" });
        return {
          ok: true,
          report: report({
            mode: "apply",
            outcome: "rolled-back",
            runId: "r",
            after: { chain: "legacy" },
            rollback,
            message:
              "rolled back run r: the primary /data/vox.db was never moved; removed the unfinished new file .vox.db.vox-cutover-new. The backup /data/b.jsonl is kept.",
          }),
        };
      },
    });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    let f = await until(lastFrame, /An unfinished cutover/);
    expect(f).not.toMatch(/Resume it/);
    expect(f).toMatch(/Resume is not offered: the primary was written to after the export/);
    expect(f).toMatch(/▸ Roll back…/);
    await inputReady();
    stdin.write(ENTER);
    f = await until(lastFrame, /Type the database's file name \(vox.db\) to roll back/);
    expect(f).toMatch(/vox.db is the original and stays where it is/);
    expect(f).toMatch(/Removed: the unfinished new file \/data\/.vox.db.vox-cutover-new/);
    expect(f).toMatch(/type the file name · Enter roll back · Esc back \(nothing changed\) · Ctrl-C quit/);
    stdin.write(ESC);
    await until(lastFrame, /▸ Roll back…/);
    await inputReady();
    stdin.write(ENTER);
    await until(lastFrame, /to roll back/);
    await inputReady();
    stdin.write(ENTER);
    await until(lastFrame, /An empty answer does nothing/);
    await inputReady();
    stdin.write("vox\r");
    await until(lastFrame, /"vox" is not vox.db: nothing was done/);
    expect(c.calls.filter((x) => x.type === "run")).toEqual([]);
    await inputReady();
    stdin.write("vox.db\r");
    f = await until(lastFrame, /Rolled back run r/);
    // What moved, in the words of the plan the engine carried out (the report's RollbackPlan), not cut from the message.
    expect(f).toMatch(/vox.db is the original and stays where it is \(never moved\)/);
    expect(f).toMatch(/Removed: the unfinished new file \/data\/.vox.db.vox-cutover-new/);
    expect(f).toMatch(/Kept: the backup \/data\/b.jsonl/);
    expect(f).toMatch(/Now: \/data\/vox.db is legacy/);
    expect(f).toMatch(/▸ Quit/);
    await inputReady();
    stdin.write(ENTER);
    await eventually(() => expect(onExit).toHaveBeenCalledWith(0, expect.stringMatching(/rolled back run r/)));
    unmount();
  });

  it("Start over rolls back after the typed name, says what moved, and offers to plan again (highlighted)", async () => {
    let n = 0;
    const c = fakeClient({
      inspect: () =>
        n++ === 0
          ? inspection({
              unfinished: {
                workDir: "/data/w",
                lastStep: "swap",
                lastStepTitle: "Swap",
                lastStepStage: 1,
                swapPhase: "new-in-place",
                runId: "r",
                primaryExists: true,
                archivedPrimary: "/data/w/archive/vox.db",
                resumable: true,
                rollback: {
                  runId: "r",
                  dbPath: "/data/vox.db",
                  workDir: "/data/w",
                  archiveDir: "/data/w/archive",
                  finished: false,
                  swapPhase: "new-in-place",
                  actions: [
                    { kind: "keep-new", from: "/data/vox.db", to: "/data/w/rolled-back-new.db", checkpoint: false },
                    { kind: "restore-original", from: "/data/w/archive/vox.db", to: "/data/vox.db" },
                  ],
                  backupKept: null,
                  refusal: null,
                },
              },
            })
          : inspection(),
      apply: async () => ({
        ok: true,
        report: report({
          mode: "apply",
          outcome: "rolled-back",
          runId: "r",
          rollback: {
            runId: "r",
            dbPath: "/data/vox.db",
            workDir: "/data/w",
            archiveDir: "/data/w/archive",
            finished: false,
            swapPhase: "new-in-place",
            actions: [
              { kind: "keep-new", from: "/data/vox.db", to: "/data/w/rolled-back-new.db", checkpoint: false },
              { kind: "restore-original", from: "/data/w/archive/vox.db", to: "/data/vox.db" },
            ],
            backupKept: "/data/w/backup.jsonl",
            refusal: null,
          },
          message:
            "rolled back run r: the new file was moved to /data/w/rolled-back-new.db; the original primary was restored from /data/w/archive/vox.db. The backup /data/w/backup.jsonl is kept.",
        }),
      }),
    });
    const { lastFrame, stdin, unmount } = mount(c);
    let f = await until(lastFrame, /The swap finished: vox.db is the new file/);
    expect(f).toMatch(/The original \(archived\): \/data\/w\/archive\/vox.db/);
    await inputReady();
    stdin.write(DOWN);
    stdin.write(DOWN);
    await until(lastFrame, /▸ Start over/);
    stdin.write(ENTER);
    f = await until(lastFrame, /Roll back, then start over/);
    expect(f).toMatch(/\/data\/vox.db \(the new file, with every write made since the swap\) → \/data\/w\/rolled-back-new.db/);
    expect(f).toMatch(/\/data\/w\/archive\/vox.db \(the original\) → \/data\/vox.db/);
    stdin.write("vox.db\r");
    f = await until(lastFrame, /Rolled back run r/);
    expect(f).toMatch(/\/data\/vox.db \(the new file, with every write made since the swap\) → \/data\/w\/rolled-back-new.db/);
    expect(f).toMatch(/\/data\/w\/archive\/vox.db \(the original\) → \/data\/vox.db/);
    expect(f).toMatch(/▸ Plan the cutover again/);
    await inputReady();
    stdin.write(ENTER);
    await until(lastFrame, /Continue to Stage 1/);
    unmount();
  });

  it("roll back from the summary asks for the name; an engine that refuses is shown as refused", async () => {
    const c = swapClient(async () => ({
      ok: true,
      report: report({
        mode: "apply",
        outcome: "completed",
        after: { chain: "current" },
        workDir: "/tmp/runs",
        archive: { path: "/tmp/runs/archive/vox.db" },
        rollback: {
          runId: "r",
          dbPath: "/tmp/vox.db",
          workDir: "/tmp/runs",
          archiveDir: "/tmp/runs/archive",
          finished: true,
          swapPhase: "new-in-place",
          actions: [
            { kind: "keep-new", from: "/tmp/vox.db", to: "/tmp/runs/rolled-back-new.db", checkpoint: true },
            { kind: "restore-original", from: "/tmp/runs/archive/vox.db", to: "/tmp/vox.db" },
          ],
          backupKept: "/tmp/runs/backup.jsonl",
          refusal: null,
        },
      }),
    }));
    const orig = c.run.bind(c);
    c.run = async (job, on) =>
      job.rollback
        ? { ok: false, error: { kind: "usage", message: "There is no unfinished cutover run for /tmp/vox.db to roll back.", exitCode: 2 } }
        : orig(job, on);
    const app = await toRunning(c);
    await until(app.lastFrame, /Type the file's name/);
    app.stdin.write("vox.db\r");
    await until(app.lastFrame, /Done: legacy → current/);
    await inputReady();
    app.stdin.write(DOWN);
    await inputReady();
    app.stdin.write(ENTER);
    let f = await until(app.lastFrame, /to roll back/);
    expect(f).toMatch(/\/tmp\/runs\/archive\/vox.db \(the original\) → \/tmp\/vox.db/);
    app.stdin.write("vox.db\r");
    f = await until(app.lastFrame, /Roll back not done/);
    expect(f).toMatch(/no unfinished cutover run/);
    expect(f).not.toMatch(/next start of the wizard offers/);
    expect(f).toMatch(/▸\[Summary\]/);
    app.unmount();
  });

  it("no database: offers a sample; the rehearsal says the sample was made by the wizard and works in its scratch folder", async () => {
    let n = 0;
    const c = fakeClient({ inspect: (db) => (n++ === 0 ? inspection({ exists: false, chain: "missing" }) : at(db!)) });
    const { lastFrame, stdin, onExit, unmount } = mount(c, { db: undefined });
    await until(lastFrame, /Create a sample legacy database/);
    await inputReady();
    stdin.write(ENTER);
    const f = await until(lastFrame, /Stage 0 — Preconditions/);
    expect(f).toMatch(/REHEARSAL on a sample the wizard made/);
    expect(c.calls.find((x) => x.type === "run")?.arg).toMatchObject({ workDir: "/tmp/sample/run" });
    await inputReady();
    stdin.write("q");
    await eventually(() => expect(onExit).toHaveBeenCalledWith(0, "Nothing was changed. The sample database the wizard made is in /tmp/sample."));
    unmount();
  });

  it("'Rehearse on a clone first' keeps the backup and the run in the clone's scratch folder", async () => {
    const c = fakeClient({ inspect: (db) => at(db ?? "/data/vox.db") });
    const d = scratch();
    c.clone = async (db) => {
      c.calls.push({ type: "clone", arg: db });
      return { db: join(d, "vox.db"), scratch: d };
    };
    const app = await toStage0(c, "/data/vox.db");
    expect(c.calls.find((x) => x.type === "run")?.arg).toMatchObject({ db: "/data/vox.db", apply: false });
    app.stdin.write(DOWN);
    await inputReady();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /REHEARSAL on a clone of \/data\/vox.db/);
    await until(app.lastFrame, /Continue to Stage 1/);
    await inputReady();
    app.stdin.write(ENTER);
    const f = await until(app.lastFrame, /Where should the backup go/);
    expect(f).toContain(join(d, "run", "backup.jsonl"));
    expect(f).not.toContain("/data/vox-cutover-runs");
    await inputReady();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /The plan/);
    await inputReady();
    app.stdin.write(ENTER);
    await eventually(() =>
      expect(c.calls.filter((x) => x.type === "run").at(-1)?.arg).toMatchObject({
        apply: true,
        db: join(d, "vox.db"),
        backupPath: join(d, "run", "backup.jsonl"),
        workDir: join(d, "run"),
        command: "rehearse",
      }),
    );
    app.unmount();
  });

  it("nothing to do: Enter leaves with the engine's message", async () => {
    const c = fakeClient({
      plan: () => ({ ok: true, report: report({ outcome: "already-done", message: "Nothing to do: /data/vox.db is on the current baseline." }) }),
    });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    const f = await until(lastFrame, /Nothing to do/);
    expect(f).toMatch(/Enter\/q leave · \? help/);
    await inputReady();
    stdin.write(ENTER);
    await eventually(() => expect(onExit).toHaveBeenCalledWith(0, "Nothing to do: /data/vox.db is on the current baseline."));
    unmount();
  });
});

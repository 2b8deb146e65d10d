import { describe, expect, it, vi } from "vitest";
import React from "react";
import { render } from "ink-testing-library";
import { App, validateBackupPath } from "../../src/ui/App.js";
import { fakeClient, inspection, report } from "./fake-client.js";
import { tmp } from "../helpers.js";
import { join } from "node:path";
import { writeFileSync } from "node:fs";

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));
const ENTER = "\r";
const ESC = "\u001b";
const DOWN = "\u001b[B";

async function until(frame: () => string | undefined, re: RegExp, ms = 3000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const f = frame() ?? "";
    if (re.test(f)) return f;
    await tick(20);
  }
  throw new Error(`timed out waiting for ${re}; last frame:\n${frame()}`);
}

/** Retries an assertion until it holds (UI effects land a few ticks later, more under load). */
async function eventually(assert: () => void, ms = 3000): Promise<void> {
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

describe("wizard screens (ink-testing-library)", () => {
  it("Stage 0 shows the preconditions and the chain in plain words", async () => {
    const { lastFrame, unmount } = mount(fakeClient());
    const f = await until(lastFrame, /Stage 0 — Preconditions/);
    expect(f).toMatch(/✓ 0 Title of resolve — resolve ok/);
    expect(f).toMatch(/LegacySchemaChain: some rows/);
    expect(f).toMatch(/Continue to Stage 1/);
    expect(f).toMatch(/Rehearse on a clone first/);
    unmount();
  });

  it("a refused preflight is shown with its reason and no way forward but check again / quit", async () => {
    const c = fakeClient({ plan: () => ({ ok: false, error: { kind: "refused", message: "Not enough free disk space beside /data/vox.db", exitCode: 3 } }) });
    const { lastFrame, stdin, onExit, unmount } = mount(c);
    const f = await until(lastFrame, /Not enough free disk space/);
    expect(f).not.toMatch(/Continue to Stage 1/);
    await tick();
    stdin.write(DOWN);
    await tick();
    stdin.write(ENTER);
    await eventually(() => expect(onExit).toHaveBeenCalledWith(3, "Nothing was changed."));
    unmount();
  });

  it("backup path: default offered, validated as you type, Esc goes back to Stage 0", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    writeFileSync(db, "");
    const c = fakeClient({ inspect: () => inspection({ resolved: { display: db, why: "--db", source: "--db", kind: "file", path: db, warnings: [] } }) });
    const { lastFrame, stdin, unmount } = mount(c, { db });
    await until(lastFrame, /Continue to Stage 1/);
    await tick();
    stdin.write(ENTER);
    let f = await until(lastFrame, /Where should the backup go/);
    expect(f).toContain(join(dir, "vox-cutover-runs"));
    expect(f).toMatch(/✓ looks good/);
    stdin.write("x");
    await tick();
    stdin.write("/");
    f = await until(lastFrame, /✗/);
    expect(f).toMatch(/names a folder/);
    stdin.write(ESC);
    await until(lastFrame, /Stage 0 — Preconditions/);
    unmount();
  });

  it("validateBackupPath refuses the database, an existing file, a missing folder", () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    writeFileSync(db, "x");
    writeFileSync(join(dir, "old.jsonl"), "x");
    expect(validateBackupPath(db, db)).toMatch(/database itself/);
    expect(validateBackupPath(`${db}-wal`, db)).toMatch(/database itself/);
    expect(validateBackupPath(join(dir, "old.jsonl"), db)).toMatch(/already there/);
    expect(validateBackupPath(join(dir, "nope", "b.jsonl"), db)).toMatch(/does not exist/);
    expect(validateBackupPath(dir, db)).toMatch(/folder/);
    expect(validateBackupPath(join(dir, "sub") + "/", db)).toMatch(/names a folder/);
    expect(validateBackupPath(join(dir, "b.jsonl"), db)).toBeUndefined();
    expect(validateBackupPath(join(dir, "vox-cutover-runs", "20260101T000000Z", "backup.jsonl"), db)).toBeUndefined();
  });

  async function toRunning(c: ReturnType<typeof fakeClient>) {
    const app = mount(c, { db: "/tmp" + "/vox.db" });
    await until(app.lastFrame, /Continue to Stage 1/);
    await tick();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /Where should the backup go/);
    await tick();
    app.stdin.write(ENTER);
    const plan = await until(app.lastFrame, /The plan \(digest abcdef0123456789\)/);
    expect(plan).toMatch(/1 \[destructive\] Title of swap/);
    await tick();
    app.stdin.write(ENTER);
    return app;
  }

  it("the wrong confirmation text cancels the destructive step and says so", async () => {
    const c = fakeClient({
      inspect: () => inspection({ resolved: { display: "/tmp/vox.db", why: "--db", source: "--db", kind: "file", path: "/tmp/vox.db", warnings: [] } }),
      apply: async (_job, on) => {
        on.event({ type: "plan", digest: "abcdef0123456789", steps: [{ id: "export", stage: 1, kind: "write", title: "Export", description: "" }, { id: "swap", stage: 1, kind: "destructive", title: "Swap", description: "" }] });
        on.event({ type: "step-start", id: "export", title: "Export" });
        on.event({ type: "step-progress", id: "export", done: 500, total: 1000, label: "users" });
        const a = await on.request({ kind: "confirm", step: "swap", title: "Swap", description: "move vox.db to the archive", expected: "vox.db" });
        if ("ok" in a && a.ok) return { ok: true, report: report({ outcome: "completed" }) };
        return { ok: false, error: { kind: "interrupted", message: "Cancelled before swap: the confirmation was not given.", exitCode: 130, cancelled: true } };
      },
    });
    const { lastFrame, stdin, unmount } = await toRunning(c);
    const f = await until(lastFrame, /Type the database's file name \(vox.db\)/);
    expect(f).toMatch(/Destructive step: Swap/);
    expect(f).toMatch(/move vox.db to the archive/);
    stdin.write("vox.dbx");
    await tick();
    stdin.write(ENTER);
    const g = await until(lastFrame, /Cancelled/);
    expect(g).toMatch(/confirmation was not given/);
    await eventually(() => expect(c.answers).toEqual([{ ok: false }]));
    unmount();
  });

  it("the right confirmation text proceeds; progress shows rows, rows/s and ETA; the summary says where everything is", async () => {
    let progressSeen = "";
    const c = fakeClient({
      inspect: () => inspection({ resolved: { display: "/tmp/vox.db", why: "--db", source: "--db", kind: "file", path: "/tmp/vox.db", warnings: [] } }),
      apply: async (_job, on) => {
        on.event({ type: "plan", digest: "d", steps: [{ id: "export", stage: 1, kind: "write", title: "Export", description: "" }] });
        on.event({ type: "step-start", id: "export", title: "Export" });
        on.event({ type: "step-progress", id: "export", done: 0, total: 1000 });
        await new Promise((r) => setTimeout(r, 150));
        on.event({ type: "step-progress", id: "export", done: 500, total: 1000, label: "users" });
        await new Promise((r) => setTimeout(r, 150));
        progressSeen = app!.lastFrame() ?? "";
        const a = await on.request({ kind: "confirm", step: "swap", title: "Swap", description: "d", expected: "vox.db" });
        expect(a).toEqual({ ok: true });
        const s = await on.request({ kind: "sidecar", path: "/tmp/vox_training_telemetry.db", tables: [{ name: "training_runs", rows: 5, present: 3, merged: 1, conflicts: 1, mergeable: true }] });
        expect(s).toEqual({ merge: false });
        const t = await on.request({ kind: "telemetry", suggested: ["/tmp/t.jsonl"] });
        expect(t).toEqual({ files: [] });
        return { ok: true, report: report({ mode: "apply", outcome: "completed", after: { chain: "current" }, archive: { path: "/tmp/runs/archive/vox.db" }, quarantined: 7, tables: [{ name: "users", target: "users", rowsBefore: 10, rowsAfter: 10, quarantined: 0 }] }) };
      },
    });
    let app: Awaited<ReturnType<typeof toRunning>> | undefined;
    app = await toRunning(c);
    await until(app.lastFrame, /Type the database's file name/);
    expect(progressSeen).toMatch(/50% 500\/1,000 rows · [\d,]+ rows\/s · ETA \d+s · users/);
    await tick();
    app.stdin.write("vox.db");
    await tick();
    app.stdin.write(ENTER);
    const side = await until(app.lastFrame, /Stage 2 — The training-telemetry sidecar/);
    expect(side).toMatch(/training_runs: 5 rows, 3 already in the new file, 1 missing, 1 conflicting/);
    await tick();
    app.stdin.write(DOWN);
    await tick();
    app.stdin.write(ENTER);
    await until(app.lastFrame, /Stage 3 — Telemetry consumers/);
    await tick();
    for (let i = 0; i < 20; i++) app.stdin.write("\u007f");
    await tick();
    app.stdin.write(ENTER);
    const sum = await until(app.lastFrame, /Done: legacy → current/);
    expect(sum).toMatch(/Archive: \/tmp\/runs\/archive\/vox.db/);
    expect(sum).toMatch(/10 before, 10 in the new file, 7 in legacy_quarantine/);
    expect(sum).toMatch(/Roll back: vox-cutover cutover --db \/data\/vox.db --rollback --apply/);
    await tick();
    app.stdin.write("q");
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(0, ""));
    app.unmount();
  });

  it("an unfinished run is offered as Resume / Roll back / Start over; Resume resumes", async () => {
    const c = fakeClient({ inspect: () => inspection({ unfinished: { workDir: "/data/vox-cutover-runs/x", lastStep: "build-import", swapPhase: "none", runId: "r" } }) });
    const { lastFrame, stdin, unmount } = mount(c);
    const f = await until(lastFrame, /An unfinished run/);
    expect(f).toMatch(/Resume it/);
    expect(f).toMatch(/Roll back/);
    expect(f).toMatch(/Start over/);
    expect(f).toMatch(/after build-import/);
    await tick();
    stdin.write(ENTER);
    await eventually(() => expect(c.calls.find((x) => x.type === "run")?.arg).toMatchObject({ apply: true, resume: true }));
    unmount();
  });

  it("no database: offers a sample and rehearses on it", async () => {
    let n = 0;
    const c = fakeClient({ inspect: (db) => (n++ === 0 ? inspection({ exists: false, chain: "missing" }) : inspection({ resolved: { display: db!, why: "--db", source: "--db", kind: "file", path: db, warnings: [] } })) });
    const { lastFrame, stdin, unmount } = mount(c, { db: undefined });
    await until(lastFrame, /Create a sample legacy database/);
    await tick();
    stdin.write(ENTER);
    const f = await until(lastFrame, /Stage 0 — Preconditions/);
    expect(f).toMatch(/\/tmp\/sample\/vox.db/);
    expect(f).toMatch(/REHEARSAL/);
    expect(c.calls.map((x) => x.type)).toContain("sample");
    unmount();
  });

  it("? shows help for the current screen; q quits safely and says nothing changed", async () => {
    const { lastFrame, stdin, onExit, unmount } = mount(fakeClient());
    await until(lastFrame, /Continue to Stage 1/);
    await tick();
    stdin.write("?");
    await until(lastFrame, /Stage 0 checks the preconditions without writing anything/);
    stdin.write("?");
    await until(lastFrame, /Continue to Stage 1/);
    stdin.write("q");
    await eventually(() => expect(onExit).toHaveBeenCalledWith(0, expect.stringMatching(/State kept|Nothing/)));
    unmount();
  });

  it("q while a step runs asks the engine to stop at a safe point, then exits with the resume note", async () => {
    let release: () => void = () => {};
    const c = fakeClient({
      inspect: () => inspection({ resolved: { display: "/tmp/vox.db", why: "--db", source: "--db", kind: "file", path: "/tmp/vox.db", warnings: [] } }),
      apply: async (_job, on) => {
        on.event({ type: "plan", digest: "d", steps: [{ id: "export", stage: 1, kind: "write", title: "Export", description: "" }] });
        on.event({ type: "step-start", id: "export", title: "Export" });
        await new Promise<void>((r) => (release = r));
        return { ok: false, error: { kind: "interrupted", message: "Interrupted (SIGINT) at a safe point", exitCode: 130 } };
      },
    });
    const app = await toRunning(c);
    await until(app.lastFrame, /▶ 1 Export/);
    app.stdin.write("q");
    await eventually(() => expect(c.calls.map((x) => x.type)).toContain("cancel"));
    release();
    await eventually(() => expect(app.onExit).toHaveBeenCalledWith(130, expect.stringMatching(/resume/i)));
    app.unmount();
  });
});

import { describe, expect, it } from "vitest";
import { initialState, reducer, stageOf, stepsOf, type WizardState } from "../../src/ui/state.js";
import type { EngineEvent } from "../../src/engine/events.js";
import { inspection, report } from "./fake-client.js";

describe("wizard reducer", () => {
  const s0 = initialState();
  it.each([
    ["missing → no-db", inspection({ exists: false, chain: "missing" }), "no-db"],
    ["unfinished → unfinished", inspection({ unfinished: { workDir: "w", lastStep: null, swapPhase: "none", runId: "r" } }), "unfinished"],
    ["not-a-database → stopped", inspection({ chain: "not-a-database" }), "stopped"],
    ["legacy → loading (planning)", inspection(), "loading"],
    ["remote → stopped", inspection({ resolved: { display: "libsql://x", why: "", source: "VOX_DB_URL", kind: "remote", warnings: [] } }), "stopped"],
  ])("%s", (_n, i, screen) => {
    expect(reducer(s0, { type: "inspected", inspection: i }).screen).toBe(screen);
  });

  it("planned → stage0 with Stage 0 results; nothing to do → nothing", () => {
    const s = reducer(s0, { type: "planned", report: report(), defaultBackup: "/b.jsonl" });
    expect(s.screen).toBe("stage0");
    expect(s.backupPath).toBe("/b.jsonl");
    expect(
      stepsOf(s)
        .filter((x) => x.status === "done")
        .map((x) => x.id),
    ).toEqual(["resolve", "disk"]);
    expect(reducer(s0, { type: "planned", report: report({ outcome: "already-done" }), defaultBackup: "" }).screen).toBe("nothing");
  });

  it("events move step statuses; progress keeps its start time", () => {
    let s: WizardState = { ...s0, screen: "running" };
    s = reducer(s, {
      type: "event",
      now: 1000,
      event: { type: "plan", digest: "d", steps: [{ id: "a", stage: 1, kind: "write", title: "A", description: "" }] },
    });
    s = reducer(s, { type: "event", now: 1000, event: { type: "step-start", id: "a", title: "A" } });
    expect(stepsOf(s)[0]!.status).toBe("running");
    s = reducer(s, { type: "event", now: 1000, event: { type: "step-progress", id: "a", done: 1, total: 10 } });
    s = reducer(s, { type: "event", now: 3000, event: { type: "step-progress", id: "a", done: 5, total: 10 } });
    expect(stepsOf(s)[0]!.progress).toMatchObject({ startedAt: 1000, at: 3000, done: 5 });
    s = reducer(s, { type: "event", now: 4000, event: { type: "step-failed", id: "a", message: "boom" } });
    expect(stepsOf(s)[0]).toMatchObject({ status: "failed", summary: "boom" });
    expect(stageOf(s)).toBe(1);
  });

  it("the step list is the run's state: seeded from the dry-run, a new attempt's plan shows steps after Stage 0 pending until reached", () => {
    let s = reducer(s0, { type: "planned", report: report(), defaultBackup: "/b.jsonl" });
    const planEvent: EngineEvent = {
      type: "plan",
      digest: "d",
      steps: stepsOf(s).map(({ id, stage, kind, title, description }) => ({ id, stage, kind, title, description })),
    };
    const later = stepsOf(s).find((x) => x.stage > 0)!;
    s = reducer(s, { type: "event", now: 1, event: { type: "step-done", id: later.id, summary: "made", warnings: ["one"] } });
    expect(stepsOf(s).find((x) => x.id === later.id)).toMatchObject({ status: "done", summary: "made", warnings: ["one"] });
    s = reducer(s, { type: "event", now: 2, event: planEvent });
    const after = stepsOf(s);
    // The wizard shows exactly what the run's state holds (one reducer, one truth).
    expect(after.map((x) => [x.id, x.status, x.summary])).toEqual(s.run.plan.map((p) => [p.id, s.run.steps[p.id]!.status, s.run.steps[p.id]!.summary]));
    expect(after.filter((x) => x.status === "done").map((x) => x.id)).toEqual(["resolve", "disk"]);
    const pending = after.find((x) => x.id === later.id)!;
    expect([pending.status, pending.summary, pending.warnings]).toEqual(["pending", undefined, undefined]);
    s = reducer(s, { type: "event", now: 3, event: { type: "step-done", id: later.id, summary: "done in an earlier attempt (made)", reused: true } });
    expect(stepsOf(s).find((x) => x.id === later.id)).toMatchObject({ status: "done", summary: "done in an earlier attempt (made)" });
  });

  it("requests open their screen; answering returns to running; Esc goes back only where safe", () => {
    const s = reducer(
      { ...s0, screen: "running" },
      { type: "request", request: { kind: "confirm", step: "swap", title: "t", description: "d", expected: "vox.db" } },
    );
    expect(s.screen).toBe("confirm");
    expect(reducer(s, { type: "answered" }).screen).toBe("running");
    expect(reducer({ ...s0, screen: "plan" }, { type: "back" }).screen).toBe("backup-path");
    expect(reducer({ ...s0, screen: "backup-path" }, { type: "back" }).screen).toBe("stage0");
    expect(reducer({ ...s0, screen: "running" }, { type: "back" }).screen).toBe("running");
    expect(reducer({ ...s0, screen: "sidecar" }, { type: "request", request: { kind: "telemetry", suggested: [] } }).screen).toBe("telemetry");
  });

  it("a cancelled run is reported as Cancelled, a refused one by its gate", () => {
    expect(reducer(s0, { type: "failed", error: { kind: "interrupted", message: "m", exitCode: 130, cancelled: true } }).stopped?.title).toBe("Cancelled");
    expect(reducer(s0, { type: "failed", error: { kind: "refused", message: "m", exitCode: 3 } }).stopped?.title).toMatch(/safety gate/);
  });
});

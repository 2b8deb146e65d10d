/**
 * The wizard's CPU while a step runs (session 11): engine events reach the reducer in batches (one
 * render per burst, row progress at most every 100 ms, none lost, the order kept), and the running
 * screen's clock draws again only when the text it shows changes. Fake timers: no test waits.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render } from "ink-testing-library";
import { Text } from "ink";
import type { EngineEvent } from "../../src/engine/events.js";
import { eventPump } from "../../src/ui/event-pump.js";
import { useClock } from "../../src/ui/screens/common.js";
import { runningLines } from "../../src/ui/format.js";

// React schedules its renders and effects with the timers it found when it loaded (the real ones):
// between steps of the fake clock, the test lets those run by turns of the real event loop.
const realImmediate = setImmediate;
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => realImmediate(r));
}
/** Moves the fake clock by `ms` in ticks of the clock's 250 ms, letting React draw after each. */
async function pass(ms: number): Promise<void> {
  await settle();
  for (let t = 0; t < ms; t += 250) {
    vi.advanceTimersByTime(Math.min(250, ms - t));
    await settle();
  }
}

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

const progress = (done: number, total = 1000, id = "export"): EngineEvent => ({ type: "step-progress", id, done, total, label: "t" });

describe("eventPump", () => {
  it("a burst is one delivery, in order, on the next turn", () => {
    const got: EngineEvent[][] = [];
    const p = eventPump((b) => got.push(b));
    p.push({ type: "step-start", id: "a", title: "A" });
    p.push({ type: "step-done", id: "a", summary: "ok" });
    p.push({ type: "note", text: "n" });
    expect(got).toEqual([]); // nothing drawn in the middle of a burst
    vi.advanceTimersByTime(0);
    expect(got.map((b) => b.map((e) => e.type))).toEqual([["step-start", "step-done", "note"]]);
  });

  it("row progress: the first at once, then at most every 100 ms with only the latest, the last never lost", () => {
    const got: EngineEvent[][] = [];
    const p = eventPump((b) => got.push(b));
    p.push(progress(1));
    vi.advanceTimersByTime(0);
    expect(got).toEqual([[progress(1)]]);
    for (let d = 2; d <= 50; d++) {
      vi.advanceTimersByTime(1);
      p.push(progress(d));
    }
    expect(got.length).toBe(1); // 49 ms later: still waiting
    vi.advanceTimersByTime(100);
    expect(got.length).toBe(2);
    expect(got[1]).toEqual([progress(50)]); // one event: the latest report replaced the others
    // a step's end is not held back by the interval, and comes after the progress that preceded it
    p.push(progress(60));
    p.push({ type: "step-done", id: "export", summary: "done" });
    vi.advanceTimersByTime(0);
    expect(got[2]).toEqual([progress(60), { type: "step-done", id: "export", summary: "done" }]);
    // a report of the total (the end of a phase) is never held
    p.push(progress(1000));
    vi.advanceTimersByTime(0);
    expect(got[3]).toEqual([progress(1000)]);
  });

  it("flush delivers at once (before a question or a result); dispose drops what waits", () => {
    const got: EngineEvent[][] = [];
    const p = eventPump((b) => got.push(b));
    p.push(progress(1));
    p.flush();
    p.push(progress(2)); // inside the interval: waits
    p.flush();
    expect(got).toEqual([[progress(1)], [progress(2)]]);
    p.push(progress(3));
    p.dispose();
    vi.advanceTimersByTime(1000);
    expect(got.length).toBe(2);
  });
});

describe("useClock", () => {
  function Clock({ shown, draws }: { shown: (t: number) => string; draws: number[] }) {
    const now = useClock(shown);
    draws.push(now);
    return <Text>{shown(now) || "idle"}</Text>;
  }

  it("draws again when the shown text changes, not on every tick; no timer when nothing is timed", async () => {
    const draws: number[] = [];
    const started = Date.now();
    const working = (t: number) => runningLines({ id: "integrity", status: "running", startedAt: started }, t, 80).join("\n");
    const app = render(<Clock shown={working} draws={draws} />);
    expect(app.lastFrame()).toBe("working (0 s)");
    await pass(3_000); // twelve ticks, three changes of the shown seconds
    expect(app.lastFrame()).toBe("working (3 s)");
    expect(draws.length).toBeLessThanOrEqual(4);
    app.unmount();

    const idle: number[] = [];
    const still = render(<Clock shown={() => ""} draws={idle} />);
    await pass(3_000);
    expect(idle.length).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    still.unmount();
  });

  it("fresh progress shows no clock: no redraw until the report grows stale", async () => {
    const draws: number[] = [];
    const at = Date.now();
    const p = { done: 100, total: 100_000, startedAt: at, at, sampleAt: at, sampleDone: 100, rate: 50 };
    const shown = (t: number) => runningLines({ id: "export", status: "running", progress: p }, t, 100).join("\n");
    const app = render(<Clock shown={shown} draws={draws} />);
    await pass(3_000);
    expect(draws.length).toBe(1);
    await pass(500);
    expect(app.lastFrame()).toMatch(/last report 4s ago/);
    app.unmount();
  });
});

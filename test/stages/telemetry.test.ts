import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { cli, ROOT, tmp } from "../helpers.js";

const T = 1736933400000;
const ok = (event: string, payload: object, ts = T) => JSON.stringify({ event, payload, ts_ms: ts });

describe("telemetry-check (Stage 3)", () => {
  it("reports every kind of violation with its exact line, unknown events as warnings, counts per event", async () => {
    const dir = tmp();
    const f = join(dir, "t.jsonl");
    const lines = [
      ok("train_start", { run_id: "r", model: "m", total_steps: 10 }), // 1 ok
      ok("step", { run_id: "r", step: 1, loss: 2.5, steps_per_sec_ema: null }), // 2 ok (nullable)
      '{"event": "step", "payload": {', // 3 invalid JSON
      JSON.stringify({ event: "step", payload: { run_id: "r", step: 2, loss: 1, steps_per_sec_ema: 3 } }), // 4 missing ts_ms
      JSON.stringify({ event: "step", payload: { run_id: "r", step: 2, loss: 1, steps_per_sec_ema: 3 }, ts_ms: T, host: "x" }), // 5 extra key
      ok("step", { run_id: "r", step: "2", loss: 1, steps_per_sec_ema: 3 }), // 6 wrong type
      JSON.stringify({ event: "step", payload: { run_id: "r", step: 2, loss: 1, steps_per_sec_ema: 3 }, ts_ms: "1736933400000" }), // 7 ts_ms string
      ok("step", { run_id: "r", step: 2, loss: 1, steps_per_sec_ema: 3 }, 1736933400), // 8 ts_ms in seconds
      ok("epoch_complete", { run_id: "r", epoch: 1 }), // 9 missing payload key
      ok("my_custom_event", { a: 1 }), // 10 warning
      JSON.stringify({ event: "", payload: {}, ts_ms: T }), // 11 empty event
      JSON.stringify({ event: "gpu_fallback", payload: [], ts_ms: T }), // 12 payload not object
      '{"event":"step","payload":{"run_id":"r","step":3,"loss":1,"steps_per_sec_ema":1},"ts_ms":1736933400000.5}', // 13 non-integer ts
      ok("epoch_complete", { run_id: "r", epoch: 2, eta_seconds_remaining: null, extra_payload_key: 1 }), // 14 ok
    ];
    writeFileSync(f, lines.join("\n") + "\n");
    const r = await cli(["telemetry-check", f, "--json"]);
    expect(r.exitCode).toBe(1);
    const byLine = (n: number) => r.json.violations.filter((v: any) => v.line === n).map((v: any) => v.message).join(" | ");
    expect(byLine(1) + byLine(2) + byLine(10) + byLine(14)).toBe("");
    expect(byLine(3)).toMatch(/invalid JSON/);
    expect(byLine(4)).toMatch(/missing envelope key\(s\): ts_ms/);
    expect(byLine(5)).toMatch(/extra envelope key\(s\): host/);
    expect(byLine(6)).toMatch(/payload.step must be integer, got string/);
    expect(byLine(7)).toMatch(/ts_ms must be an integer/);
    expect(byLine(8)).toMatch(/out of range/);
    expect(byLine(9)).toMatch(/missing payload key eta_seconds_remaining/);
    expect(byLine(11)).toMatch(/non-empty string/);
    expect(byLine(12)).toMatch(/payload must be an object/);
    expect(byLine(13)).toMatch(/ts_ms must be an integer/);
    expect(r.json.warnings).toEqual([{ file: f, line: 10, message: 'unknown event "my_custom_event"' }]);
    expect(r.json.counts).toMatchObject({ train_start: 1, step: 7, epoch_complete: 2, my_custom_event: 1 });
    expect(r.stderr).toContain(`${f}:3: invalid JSON`);
  });

  it("a clean file exits 0; the sample's file has its bad lines found", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "ok.jsonl"), ok("gpu_fallback", { run_id: "r", reason: "OOM" }) + "\n");
    expect((await cli(["telemetry-check", join(dir, "ok.jsonl")])).exitCode).toBe(0);
    await cli(["sample", join(dir, "vox.db"), "--rows", "20"]);
    const r = await cli(["telemetry-check", join(dir, "telemetry.jsonl"), "--json"]);
    expect(r.exitCode).toBe(1);
    expect(r.json.violations.length).toBeGreaterThanOrEqual(4);
  });

  it("a missing file: exit 1 with a clear message", async () => {
    const r = await cli(["telemetry-check", "/nonexistent/t.jsonl"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/does not exist/);
  });

  it("streams a large file in flat memory", async () => {
    const dir = tmp();
    const f = join(dir, "big.jsonl");
    const fd = openSync(f, "w");
    const line = ok("step", { run_id: "run-with-a-longer-name", step: 1, loss: 0.123456, steps_per_sec_ema: 12.5, note: "x".repeat(300) }) + "\n";
    const chunk = line.repeat(2000);
    for (let i = 0; i < 250; i++) writeSync(fd, chunk); // ~200 MB, 500k lines
    closeSync(fd);
    const script = `const t = await import(${JSON.stringify(join(ROOT, "dist/src/stages2to4/telemetry.js"))}); const r = t.checkTelemetry([${JSON.stringify(f)}]); process.stdout.write(JSON.stringify({ rss: process.resourceUsage().maxRSS / 1024, lines: r.files[0].lines, v: r.violations.length }));`;
    const res = JSON.parse((await execa("node", ["--input-type=module", "-e", script])).stdout);
    console.log(`telemetry-check of ${res.lines} lines (~200 MB): peak RSS ${res.rss.toFixed(0)} MB`);
    expect(res.lines).toBe(500_000);
    expect(res.v).toBe(0);
    expect(res.rss).toBeLessThan(150);
  }, 120_000);
});

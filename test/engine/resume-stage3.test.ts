/**
 * Stage 3 (telemetry) and Stage 4 (news) on resume. The telemetry result is reused while its inputs
 * stand (the same files, each with the device, inode, size and modification time it had when read;
 * a resume may name none: the first attempt's); a file that changed is checked again and the step
 * says why. The news step is never reused: it looks at the file as it is now (its copy is idempotent).
 */
import { describe, expect, it } from "vitest";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cli, pausedAt, sampleInto, tmp } from "../helpers.js";

/** Runs `args` paused after the telemetry step, stops it there with SIGTERM, returns its result. */
async function stoppedAfterTelemetry(args: string[]) {
  const { child, release } = await pausedAt(args, "after:telemetry-check");
  child.kill("SIGTERM");
  release();
  const r = await child;
  return { exitCode: r.exitCode, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

describe("telemetry and news steps on resume", () => {
  it("a changed telemetry file is checked again (and the step says why); unchanged, the first result is reused with its warnings", async () => {
    const { dir, db } = await sampleInto(tmp(), 10);
    const tel = join(dir, "telemetry.jsonl");
    const first = await stoppedAfterTelemetry(["cutover", "--db", db, "--apply", "--telemetry", tel]);
    expect(first.exitCode, first.stderr).toBe(143);
    const v1 = Number(/telemetry-check: [\d,]+ lines, ([\d,]+) violation/.exec(first.all)?.[1]);
    expect(v1).toBeGreaterThan(0); // the sample's telemetry has a few bad lines

    // The file changes between the attempts: one more bad line (no payload).
    appendFileSync(tel, '{"event":"step","ts_ms":1}\n');
    const second = await stoppedAfterTelemetry(["cutover", "--db", db, "--resume", "--apply"]);
    expect(second.exitCode, second.stderr).toBe(143);
    expect(second.all).toMatch(/telemetry-check: rerun on resume \(telemetry\.jsonl changed since the first attempt\): [\d,]+ lines, ([\d,]+) violation/);
    const v2 = Number(/rerun on resume \(telemetry\.jsonl changed since the first attempt\): [\d,]+ lines, ([\d,]+) violation/.exec(second.all)?.[1]);
    expect(v2).toBe(v1 + 1);
    const independent = await cli(["telemetry-check", tel, "--json"]);
    expect(independent.json.violations.length).toBe(v2);

    // Unchanged since: the third attempt reuses the second's result, warnings included, and finishes.
    const third = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"]);
    expect(third.exitCode, third.stderr).toBe(0);
    const step = third.json.steps.find((s: any) => s.id === "telemetry-check");
    expect(step.status).toBe("reused");
    expect(step.summary).toMatch(/^done in an earlier attempt \(rerun on resume \(telemetry\.jsonl changed since the first attempt\)/);
    expect(step.warnings).toEqual([`${v2} telemetry envelope violation(s)`]);
    const news = third.json.steps.find((s: any) => s.id === "news");
    expect(news.status).toBe("done");
    const report = readFileSync(join(third.json.workDir, "report.md"), "utf8");
    expect(report).toContain(`${v2} telemetry envelope violation(s)`);
  });
});

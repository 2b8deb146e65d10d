import { Writable } from "node:stream";
import { EXIT, usage, VoxError } from "../../errors.js";
import { Output } from "../output.js";
import type { CommandResult, Ctx, Handler } from "../run.js";
import { drillCommand } from "./drill.js";
import { newsCheckCommand } from "./news-check.js";
import { ssotDriftCommand } from "./ssot-drift.js";
import { telemetryCheckCommand } from "./telemetry-check.js";
import { verifyCommand } from "./verify.js";

interface CheckResult {
  name: string;
  ran: boolean;
  why: string;
  exitCode: number;
  summary: string;
}

function envFlag(name: string): boolean | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  // A value that is neither: a usage error, never a guess (helper-101: VOX_GATE_VERIFY=nope ran verify).
  throw usage({
    what: `${name}=${v} is neither true nor false.`,
    untouched: "No check ran.",
    next: `Set ${name} to true or false (1/0, yes/no, on/off), or unset it.`,
  });
}

function sink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
}

async function runCheck(ctx: Ctx, name: string, handler: Handler, args: unknown[], opts: Record<string, unknown> = {}): Promise<CheckResult> {
  const lines: string[] = [];
  const out = new Output(false, name, sink(lines), sink(lines));
  const sub: Ctx = { out, opts: { ...ctx.opts, json: false, apply: false, ...opts }, resolve: ctx.resolve, token: ctx.token };
  try {
    const r: CommandResult = await handler(sub, ...args);
    const code = r.exitCode ?? (r.ok ? 0 : 1);
    return { name, ran: true, why: "", exitCode: code, summary: lines.filter((l) => !l.startsWith("database:")).at(-1) ?? (code ? "failed" : "ok") };
  } catch (e) {
    if (e instanceof VoxError) return { name, ran: true, why: "", exitCode: e.exitCode, summary: e.what };
    throw e;
  }
}

export async function gateCommand(ctx: Ctx): Promise<CommandResult> {
  const { out, opts } = ctx;
  const want = {
    drift: opts.drift !== false && envFlag("VOX_GATE_DRIFT") !== false,
    verify: opts.verify !== false && envFlag("VOX_GATE_VERIFY") !== false,
    drill: Boolean(opts.drill) || envFlag("VOX_GATE_DRILL") === true,
    telemetry: ((opts.telemetry as string[] | undefined) ?? []).length > 0,
    news: Boolean(opts.news) || envFlag("VOX_GATE_NEWS") === true,
  };
  const why = (flag: string, env: string, optIn: boolean) => (optIn ? `opt-in: --${flag} or ${env}=true` : `skipped by --no-${flag} or ${env}=false`);
  const checks: CheckResult[] = [];
  const skip = (name: string, reason: string) => checks.push({ name, ran: false, why: reason, exitCode: 0, summary: "skipped" });
  if (want.drift) checks.push(await runCheck(ctx, "ssot-drift", ssotDriftCommand, []));
  else skip("ssot-drift", why("drift", "VOX_GATE_DRIFT", false));
  if (want.verify || want.drill || want.news) ctx.resolve();
  if (want.verify) checks.push(await runCheck(ctx, "verify", verifyCommand, []));
  else skip("verify", why("verify", "VOX_GATE_VERIFY", false));
  if (want.drill) checks.push(await runCheck(ctx, "drill", drillCommand, [], { apply: Boolean(opts.apply) }));
  else skip("drill", why("drill", "VOX_GATE_DRILL", true));
  if (want.telemetry) checks.push(await runCheck(ctx, "telemetry-check", telemetryCheckCommand, [opts.telemetry]));
  else skip("telemetry-check", "opt-in: --telemetry FILE…");
  if (want.news) checks.push(await runCheck(ctx, "news-check", newsCheckCommand, []));
  else skip("news-check", why("news", "VOX_GATE_NEWS", true));
  const exitCode = Math.max(EXIT.ok, ...checks.map((c) => c.exitCode));
  for (const c of checks)
    out.text(`${c.ran ? (c.exitCode === 0 ? "PASS" : "FAIL") : "SKIP"}  ${c.name.padEnd(16)} ${c.ran ? `exit ${c.exitCode}  ${c.summary}` : c.why}`);
  out.text(
    `gate: ${exitCode === 0 ? "pass" : `FAIL (exit ${exitCode}, the highest of the checks')`} — ran ${
      checks
        .filter((c) => c.ran)
        .map((c) => c.name)
        .join(", ") || "nothing"
    }; skipped ${
      checks
        .filter((c) => !c.ran)
        .map((c) => c.name)
        .join(", ") || "nothing"
    }`,
  );
  return {
    ok: exitCode === 0,
    exitCode,
    mode: opts.apply ? "apply" : "read",
    data: { checks, ran: checks.filter((c) => c.ran).map((c) => c.name), skipped: checks.filter((c) => !c.ran).map((c) => c.name), exitCode },
  };
}

import type { StepView } from "./state.js";

export function bar(done: number, total: number, width: number): string {
  const w = Math.max(5, width);
  const f = total > 0 ? Math.min(w, Math.round((done / total) * w)) : w;
  return "█".repeat(f) + "░".repeat(w - f);
}

export function eta(p: NonNullable<StepView["progress"]>): { rate: number; seconds: number } {
  const secs = Math.max(0.001, (p.at - p.startedAt) / 1000);
  const rate = p.done / secs;
  return { rate, seconds: rate > 0 && p.total > p.done ? (p.total - p.done) / rate : 0 };
}

export function human(n: number): string {
  return n.toLocaleString("en-US");
}

export const ICON: Record<string, string> = { pending: "·", running: "▶", done: "✓", skipped: "-", failed: "✗" };

export const STAGES = ["Preconditions", "Legacy chain", "Sidecar", "Telemetry", "Publication/news"];

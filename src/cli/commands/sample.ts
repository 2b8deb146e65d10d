import { formatCount } from "../../util/count.js";
import { resolve } from "node:path";
import { usage } from "../../errors.js";
import { generateSample } from "../../sample/generate.js";
import type { CommandResult, Ctx } from "../run.js";
import { shellQuote } from "../../util/shell.js";

export async function sampleCommand(ctx: Ctx, outArg: unknown): Promise<CommandResult> {
  const { out, opts } = ctx;
  const seed = Number(opts.seed ?? 1);
  const rows = Number(opts.rows ?? 50);
  if (!Number.isInteger(seed))
    throw usage({
      what: `--seed must be a whole number (got ${String(opts.seed)}).`,
      untouched: "Nothing was written.",
      next: "Run again with, e.g., --seed 7.",
    });
  const path = resolve(String(outArg));
  const r = generateSample({ out: path, seed, rows });
  out.text(`sample legacy database: ${r.path}`);
  out.text(`  vox baseline ${r.baseline}'s tables; schema_version rows: ${r.versions.join(", ")} (ad-hoc apply_migrations rows: a legacy chain)`);
  out.text(
    `  ${formatCount(r.tables.length)} tables, ${formatCount(r.totalRows)} rows (seed ${seed}, --rows ${rows}); the user's own tables: ${r.adhocTables.join(", ")}`,
  );
  out.text(`  sidecar:   ${r.sidecar}`);
  out.text(`  telemetry: ${r.telemetry} (a few lines are bad on purpose)`);
  out.text("");
  out.text(`next: vox-cutover diagnose --db ${shellQuote(r.path)}`);
  out.text(`      vox-cutover rehearse --db ${shellQuote(r.path)}`);
  return {
    ok: true,
    mode: "apply",
    data: {
      path: r.path,
      sidecar: r.sidecar,
      telemetry: r.telemetry,
      seed,
      rows,
      versions: r.versions,
      baseline: r.baseline,
      adhocTables: r.adhocTables,
      tables: r.tables,
      totalRows: r.totalRows,
    },
  };
}

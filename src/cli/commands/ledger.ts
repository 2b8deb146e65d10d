import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { openReadOnly } from "../../db/local.js";
import { failed } from "../../errors.js";
import { listLedger } from "../../db/ledger.js";
import type { CommandResult, Ctx } from "../run.js";

export async function ledgerCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  if (resolved.kind !== "file") throw failed({ what: "ledger reads local files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const d = await diagnose(resolved, loadBaselineContext());
  if (d.error) throw d.error;
  if (d.chain === "missing") throw failed({ what: `There is no database at ${resolved.path}.`, untouched: "Nothing was written.", next: "Check --db." });
  const db = openReadOnly(resolved.path!);
  let rows;
  try {
    rows = listLedger(db);
  } finally {
    db.close();
  }
  const { out } = ctx;
  if (!rows.length) out.text("cutover_ledger: no rows");
  for (const r of rows)
    out.text(
      `${r.id}  ${r.createdAt}  ${r.command.padEnd(16)} ${r.mode.padEnd(7)} ${r.status.padEnd(4)} run ${r.runId}  tool ${r.toolVersion}${r.backupSha256 ? `  backup ${r.backupSha256.slice(0, 16)}…` : ""}  ${JSON.stringify(r.counts).slice(0, 120)}`,
    );
  return { ok: true, mode: "read", db: resolved, data: { rows } };
}

import { EXIT } from "../../errors.js";
import { checkDrift } from "../../schema/drift.js";
import type { CommandResult, Ctx } from "../run.js";

export async function ssotDriftCommand(ctx: Ctx): Promise<CommandResult> {
  const r = checkDrift();
  const { out } = ctx;
  out.text(`manifest  ${r.manifest.path}: baseline_version ${r.manifest.baselineVersion}, ${r.manifest.fragments} fragments`);
  out.text(`contract  ${r.contract.path}: repository_baseline_integer ${r.contract.baselineInteger}`);
  out.text(`digest    computed ${r.computedDigest}`);
  out.text(`          contract ${r.contract.digestHex}`);
  if (r.ok) {
    out.text("no drift: the contract, the manifest and the baseline SQL agree.");
  } else {
    out.text("DRIFT:");
    for (const p of r.problems) out.text(`  - ${p}`);
    out.text("fix:");
    for (const f of r.fix) out.text(`  ${f}`);
    out.text("Nothing was changed. A database is never migrated while the repository drifts.");
  }
  return {
    ok: r.ok,
    exitCode: r.ok ? EXIT.ok : EXIT.refused,
    mode: "read",
    data: {
      drift: !r.ok,
      manifest: r.manifest,
      contract: r.contract,
      computedDigest: r.computedDigest,
      problems: r.problems,
      fix: r.fix,
    },
  };
}

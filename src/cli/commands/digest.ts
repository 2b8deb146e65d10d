import { baselineDigest, loadManifest } from "../../schema/manifest.js";
import type { CommandResult, Ctx } from "../run.js";

export async function digestCommand(ctx: Ctx): Promise<CommandResult> {
  const m = loadManifest();
  const digest = baselineDigest(m);
  if (ctx.out.json) ctx.out.note(digest);
  else ctx.out.text(digest);
  return {
    ok: true,
    mode: "read",
    data: { digest, baselineVersion: m.baselineVersion, fragments: m.fragments.map((f) => f.file), algorithm: "keccak-256" },
  };
}

/**
 * The runbook as data. Stage 0 (preconditions) always runs; Stage 1 depends on the route the
 * diagnosis calls for; Stages 2–4 (sidecar, telemetry consumers, publication/news) follow once the
 * file is on the baseline.
 */
import type { BaselineContext, Diagnosis } from "../src/diagnose/diagnose.js";
import { planMigration } from "../src/migrate/migrate.js";
import { stage0 } from "./stage0-preconditions.js";
import { stage1Baseline, stage1Behind } from "./stage1-fold.js";
import { stage1Legacy } from "./stage1-legacy.js";
import { stage1Import } from "./stage1-import.js";
import { stages2to4, STAGE1_ONLY } from "./stage2to4.js";
import type { Step } from "./types.js";

/**
 * How Stage 1 brings the file onto the target:
 * - `rebuild`: export, new file on the baseline beside it, import, swap (legacy chains, and files
 *   whose structure cannot be repaired in place: a column defined differently, a NOT NULL column
 *   without default or a non-constant default to add, a missing unique set or foreign key);
 * - `fold`: verified backup, then a copy beside the file is folded (missing columns added, idempotent
 *   DDL, version stamped), checked and swapped in like a rebuild (`behind`, a `current` file whose
 *   structure drifted, an `empty` file holding tables);
 * - `import`: `import-legacy` into a database that exists: a verified backup of it, then the
 *   operator's backup loaded into a copy beside it (replace semantics), swapped in like a rebuild;
 * - `baseline`: apply the baseline to an empty file; `none`: nothing to do.
 */
export type Route = "rebuild" | "fold" | "import" | "baseline" | "none";

export function routeFor(d: Diagnosis, base: BaselineContext): Route {
  switch (d.chain) {
    case "legacy":
      return "rebuild";
    case "behind":
    case "current":
    case "empty": {
      if (d.chain === "current" && (!d.structure || d.structure.equal)) return "none";
      if (d.chain === "empty" && d.tables.length === 0) return "baseline";
      return planMigration(d, base).blockers.length > 0 ? "rebuild" : "fold";
    }
    default:
      return "none";
  }
}

export function stepsFor(route: Route, command?: string): Step[] {
  const all = allStepsFor(route);
  return command && STAGE1_ONLY.has(command) ? all.filter((s) => s.stage <= 1) : all;
}

function allStepsFor(route: Route): Step[] {
  switch (route) {
    case "rebuild":
      return [...stage0, ...stage1Legacy, ...stages2to4];
    case "fold":
      return [...stage0, ...stage1Behind, ...stages2to4];
    case "import":
      return [...stage0, ...stage1Import, ...stages2to4];
    case "baseline":
      return [...stage0, ...stage1Baseline, ...stages2to4];
    default:
      return [];
  }
}

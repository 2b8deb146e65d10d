/**
 * What Stage 1's export and build-import record (their journaled outputs), made in one place from
 * what the export and the import report: the apply's steps record them, and the dry-run's kept
 * trial records the very same shape, so an apply that adopts the trial journals what it would have
 * journaled had it made the files itself (src/engine/kept-trial.ts).
 */
import type { exportBackup } from "../backup/export.js";
import type { ImportReport } from "../backup/import.js";
import { recordFile } from "../safety/runfiles.js";
import type { ContentState } from "../safety/content-version.js";
import { formatCount, plural } from "../util/count.js";
import type { StepOutput } from "./step-outputs.js";
import { importEvidence } from "./trial.js";

type Exported = Awaited<ReturnType<typeof exportBackup>>;

/** The export step's outputs; `identity`: the primary's content state taken just before the export's snapshot. */
export function exportOutputs(r: Exported, identity: ContentState): { summary: string; outputs: StepOutput<"export"> } {
  return {
    summary: `${formatCount(r.totalRows)} rows of ${plural(r.tables.length, "table")}${r.sequences ? ` (and ${formatCount(r.sequences)} sqlite_sequence entries)` : ""}, sha256 ${r.sha256.slice(0, 16)}…`,
    outputs: {
      path: r.path,
      sha256: r.sha256,
      rows: r.totalRows,
      bytes: r.bytes,
      identity,
      tables: r.tables,
      sequenceTable: r.sequencesSha256 === null ? null : { rows: r.sequences, sha256: r.sequencesSha256 },
      file: recordFile(r.path, r.sha256),
      ...(r.readWhole.length ? { readWhole: r.readWhole } : {}),
    },
  };
}

/** The build-import step's outputs: `verified` whether the backup it loaded was verified, `readWhole` the export's list. */
export function buildOutputs(
  r: ImportReport,
  newPath: string,
  verified: boolean,
  readWhole: ImportReport["readWhole"] | undefined,
): { summary: string; outputs: StepOutput<"build-import"> } {
  return {
    summary: `${formatCount(r.loaded)} rows loaded, ${formatCount(r.quarantined)} quarantined; integrity ${r.integrity}; FTS rebuilt: ${r.ftsRebuilt.join(", ") || "none"}`,
    outputs: {
      path: newPath,
      loaded: r.loaded,
      quarantined: r.quarantined,
      integrity: r.integrity,
      foreignKeyViolations: r.foreignKeyViolations,
      ftsRebuilt: r.ftsRebuilt,
      tables: r.tables.map((t) => ({
        name: t.source,
        target: t.target,
        rows: t.rows,
        loaded: t.loaded,
        quarantined: t.quarantined,
        reasons: t.reasons,
        partial: t.partial,
        partialReasons: t.partialReasons,
        columns: t.columns,
        seeded: t.seeded,
        parity: t.parity,
      })),
      sequences: r.sequences,
      evidence: importEvidence(r, verified, readWhole),
      file: recordFile(newPath),
    },
  };
}

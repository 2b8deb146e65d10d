/** What `import-legacy --json` says of an import: per table and in total (both modes, and the import route's swap). */
import type { ImportReport } from "./import.js";

export function importJson(r: ImportReport): Record<string, unknown> {
  return {
    runId: r.runId,
    tables: r.tables.map((t) => ({
      name: t.source,
      target: t.target || null,
      rows: t.rows,
      loaded: t.loaded,
      quarantined: t.quarantined,
      present: t.present,
      cleared: t.cleared,
      reasons: t.reasons,
      partial: t.partial,
      partialReasons: t.partialReasons,
      columns: t.columns,
      seeded: t.seeded,
      mapping: t.mapping,
      parity: t.parity,
      ...(t.loadedBy ? { loadedBy: t.loadedBy } : {}),
    })),
    totalRows: r.totalRows,
    loaded: r.loaded,
    quarantined: r.quarantined,
    partial: r.partial,
    sequences: r.sequences,
    seeded: r.seeded,
    foreignKeyViolations: r.foreignKeyViolations,
    foreignKeyUncheckable: r.foreignKeyUncheckable,
    integrity: r.integrity,
    ftsRebuilt: r.ftsRebuilt,
  };
}

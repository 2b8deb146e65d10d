/**
 * What a destructive decision rests on, gathered from what the engine already said (step outputs of
 * the verified backup and the trial import) or sent with the request. A part that is missing is
 * undefined and the screen says "not available"; nothing is guessed.
 */
export interface TableEvidence {
  name: string;
  target?: string | null;
  rowsIn: number;
  loaded: number;
  quarantined: number;
  reasons: Record<string, number>;
}

export interface Evidence {
  tables?: TableEvidence[];
  columnsToQuarantine?: { table: string; column: string; nonNull: number }[];
  orphans?: { table: string; count: number }[];
  /** The old file's own indexes, triggers and views: how many carried, and each one not carried with its SQL and reason. */
  objects?: { carried: { type: string; name: string; table: string }[]; notCarried: { type: string; name: string; table: string; sql: string; reason: string }[] };
  backupVerified?: { verified: boolean; rows?: number; sha256?: string; path?: string };
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** What the engine may send (its ImportEvidence): backupVerified may be a plain boolean. */
export type EvidenceIn = Omit<Partial<Evidence>, "backupVerified"> & { backupVerified?: Evidence["backupVerified"] | boolean };

export function evidenceFrom(outputs: Record<string, Record<string, unknown>>, extraIn?: EvidenceIn, backupPath?: string): Evidence {
  const ev: Evidence = {};
  const imp = outputs["build-import"];
  if (imp && Array.isArray(imp.tables)) {
    ev.tables = (imp.tables as Record<string, unknown>[])
      .filter((t) => t.name !== "sqlite_sequence")
      .map((t) => ({
        name: String(t.name),
        target: (t.target as string | null | undefined) ?? null,
        rowsIn: num(t.rows) ?? 0,
        loaded: num(t.loaded) ?? 0,
        quarantined: num(t.quarantined) ?? 0,
        reasons: (t.reasons && typeof t.reasons === "object" ? (t.reasons as Record<string, number>) : {}) ?? {},
      }));
  }
  if (imp && Array.isArray(imp.foreignKeyViolations)) {
    ev.orphans = (imp.foreignKeyViolations as { table: string; count: number }[]).map((f) => ({ table: String(f.table), count: num(f.count) ?? 0 }));
  }
  const ver = outputs["verify-backup"];
  if (ver) ev.backupVerified = { verified: ver.verified === true, rows: num(ver.rows), sha256: typeof ver.sha256 === "string" ? ver.sha256 : undefined, path: backupPath };
  const { backupVerified: bvIn, ...extra } = extraIn ?? {};
  const out: Evidence = { ...ev };
  if (extra.tables) out.tables = extra.tables.map((t) => ({ name: t.name, target: t.target ?? null, rowsIn: t.rowsIn, loaded: t.loaded, quarantined: t.quarantined, reasons: t.reasons ?? {} }));
  if (extra.columnsToQuarantine) out.columnsToQuarantine = extra.columnsToQuarantine;
  if (extra.orphans) out.orphans = extra.orphans;
  const objects = extra.objects ?? (imp?.evidence as EvidenceIn | undefined)?.objects;
  if (objects) out.objects = objects;
  if (typeof bvIn === "boolean") out.backupVerified = { ...(ev.backupVerified ?? { path: backupPath }), verified: bvIn || ev.backupVerified?.verified === true };
  else if (bvIn) out.backupVerified = bvIn;
  return out;
}

export function reasonsText(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

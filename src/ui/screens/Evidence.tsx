import { Box, Text } from "ink";
import { escapeControls, human } from "../format.js";
import { reasonsText, type Evidence } from "../evidence.js";
import { READ_WHOLE_HEADING, readWholeSentence } from "../../report/final.js";
import { plural } from "../../util/count.js";

const NA = "not available";

/** The evidence a destructive decision rests on; each missing part says "not available". */
export function EvidenceView({ evidence, maxTables = 4, compact = false }: { evidence: Evidence; maxTables?: number; compact?: boolean }) {
  const t = evidence.tables;
  const sum = (k: "rowsIn" | "loaded" | "quarantined") => (t ?? []).reduce((n, x) => n + x[k], 0);
  const withQ = (t ?? []).filter((x) => x.quarantined > 0).sort((a, b) => b.quarantined - a.quarantined);
  const orphans = evidence.orphans;
  const bv = evidence.backupVerified;
  const lines: { text: string; color?: string }[] = [];
  lines.push({
    text: bv
      ? `Backup: ${bv.verified ? "verified" : "NOT verified"}${bv.rows !== undefined ? ` (${human(bv.rows)} rows re-read, hashes equal to the primary's)` : ""}${bv.sha256 ? `, sha256 ${bv.sha256.slice(0, 12)}…` : ""}`
      : `Backup verification: ${NA}`,
    color: bv && !bv.verified ? "red" : undefined,
  });
  if (t) {
    lines.push({
      text: `Rows: ${human(sum("rowsIn"))} in the old file → ${human(sum("loaded"))} loaded, ${human(sum("quarantined"))} quarantined (${t.length} tables)`,
    });
    for (const x of withQ.slice(0, maxTables))
      lines.push({
        text: `  ${x.name}: ${human(x.rowsIn)} in, ${human(x.loaded)} loaded, ${human(x.quarantined)} quarantined${Object.keys(x.reasons).length ? ` — ${reasonsText(x.reasons)}` : ""}`,
      });
    if (withQ.length > maxTables)
      lines.push({ text: `  … ${withQ.length - maxTables} ${maxTables ? "more " : ""}table(s) with quarantined rows (report.md lists all)` });
  } else lines.push({ text: `Rows loaded / quarantined per table: ${NA}` });
  const cq = evidence.columnsToQuarantine;
  if (cq)
    lines.push({
      text: cq.length
        ? `Columns whose values go to legacy_quarantine: ${cq.map((c) => `${c.table}.${c.column} (${human(c.nonNull)} non-null)`).join(", ")}`
        : "Columns whose values go to legacy_quarantine: none",
    });
  else lines.push({ text: `Columns whose values go to legacy_quarantine: ${NA}` });
  if (orphans) {
    const n = orphans.reduce((a, o) => a + o.count, 0);
    const top = [...orphans].sort((a, b) => b.count - a.count).slice(0, 3);
    lines.push({
      text: n
        ? `Foreign-key orphans carried over: ${human(n)} in ${orphans.length} table(s) (${top.map((o) => `${o.table} ${human(o.count)}`).join(", ")}${orphans.length > 3 ? ", …" : ""})`
        : "Foreign-key orphans: none",
    });
  } else lines.push({ text: `Foreign-key orphans: ${NA}` });
  const ob = evidence.objects;
  if (ob && (ob.carried.length || ob.notCarried.length)) {
    lines.push({
      text: `Indexes, triggers, views the target lacks: ${ob.carried.length} carried, ${ob.notCarried.length} not carried (kept in the archive)`,
      color: undefined,
    });
    for (const x of ob.notCarried.slice(0, maxTables)) lines.push({ text: `  ${x.type} ${x.name}: ${x.reason} — ${x.sql.replace(/\s+/g, " ")}` });
    if (ob.notCarried.length > maxTables) lines.push({ text: `  … ${ob.notCarried.length - maxTables} more (report.md lists all)` });
  }
  const rw = evidence.readWhole;
  if (rw?.length) {
    lines.push({ text: `${READ_WHOLE_HEADING}: ${plural(rw.length, "table")}` });
    for (const w of rw.slice(0, maxTables)) lines.push({ text: `  ${readWholeSentence(w)}` });
    if (rw.length > maxTables) lines.push({ text: `  … ${rw.length - maxTables} more (report.md lists all)` });
  }
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i} color={l.color} wrap={compact ? "truncate-end" : "wrap"}>
          {escapeControls(l.text)}
        </Text>
      ))}
    </Box>
  );
}

/**
 * The evidence in two wrapped lines for a small terminal (60×20): the backup's verification and the
 * rows' fate with the counts of what else the full view lists. Nothing is cut mid-sentence.
 */
export function EvidenceGist({ evidence }: { evidence: Evidence }) {
  const t = evidence.tables;
  const bv = evidence.backupVerified;
  const sum = (k: "rowsIn" | "loaded" | "quarantined") => (t ?? []).reduce((n, x) => n + x[k], 0);
  const orphans = (evidence.orphans ?? []).reduce((a, o) => a + o.count, 0);
  const cq = evidence.columnsToQuarantine?.length ?? 0;
  const notCarried = evidence.objects?.notCarried.length ?? 0;
  const backup = bv
    ? `Backup: ${bv.verified ? "verified" : "NOT verified"}${bv.rows !== undefined ? ` (${human(bv.rows)} rows)` : ""}${bv.sha256 ? `, sha256 ${bv.sha256.slice(0, 12)}…` : ""}`
    : `Backup verification: ${NA}`;
  const extra = [
    cq ? `${cq} column(s) to quarantine` : "",
    orphans ? `${human(orphans)} FK orphan(s) kept` : "",
    notCarried ? `${notCarried} index/trigger/view not carried` : "",
    evidence.readWhole?.length ? `${READ_WHOLE_HEADING.toLowerCase()} in ${plural(evidence.readWhole.length, "table")}` : "",
  ].filter(Boolean);
  const rowsLine = t
    ? `Rows: ${human(sum("rowsIn"))} → ${human(sum("loaded"))} loaded, ${human(sum("quarantined"))} quarantined${extra.length ? `; ${extra.join(", ")}` : ""} (report.md will list all)`
    : `Rows loaded / quarantined per table: ${NA}`;
  return (
    <Box flexDirection="column">
      <Text color={bv && !bv.verified ? "red" : undefined} wrap="wrap">
        {escapeControls(backup)}
      </Text>
      <Text wrap="wrap">{escapeControls(rowsLine)}</Text>
    </Box>
  );
}

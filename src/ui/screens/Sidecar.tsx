import { Box, Text } from "ink";
import { basename } from "node:path";
import type { DecisionRequest } from "../../engine/events.js";
import { Menu } from "../components.js";
import { escapeControls, human } from "../format.js";
import type { ScreenProps } from "./common.js";

export function SidecarTables({ tables, max = 6 }: { tables: Extract<DecisionRequest, { kind: "sidecar" }>["tables"]; max?: number }) {
  // Tables with rows first; empty ones are counted, not listed.
  const full = tables.filter((t) => t.rows > 0).sort((a, b) => b.conflicts - a.conflicts || b.merged - a.merged || b.rows - a.rows);
  const empty = tables.length - full.length;
  const shown = full.slice(0, max);
  return (
    <Box flexDirection="column">
      {full.length > shown.length ? (
        <Text wrap="wrap">{`  … ${full.length - shown.length} more table(s) with rows (report.md lists every sidecar table)`}</Text>
      ) : null}
      {empty ? <Text wrap="wrap">{`  ${empty} empty table(s) not listed`}</Text> : null}
      {shown.map((t) => (
        <Text
          key={t.name}
          wrap="wrap"
        >{`  ${escapeControls(t.name)}: ${human(t.rows)} rows, ${human(t.present)} already in the new file, ${human(t.merged)} missing, ${human(t.conflicts)} conflicting${t.mergeable ? "" : " (no such table in the baseline: kept in the archive)"}`}</Text>
      ))}
    </Box>
  );
}

export function Sidecar({ e, rows }: ScreenProps) {
  const r = e.s.request as Extract<DecisionRequest, { kind: "sidecar" }>;
  return (
    <Box flexDirection="column">
      <Text bold wrap="wrap">{`Stage 2 — The training-telemetry sidecar ${basename(r.path)}`}</Text>
      <SidecarTables tables={r.tables} max={Math.max(1, rows - 8)} />
      <Text wrap="wrap">It is backed up (verified) first either way; then it is moved to the archive.</Text>
      <Menu
        options={[
          { label: "Merge the missing rows, then archive the file", value: "merge" },
          { label: "Archive only (its rows stay in the archived file)", value: "archive" },
        ]}
        onSelect={(v) => e.chooseSidecar(v === "merge")}
      />
    </Box>
  );
}

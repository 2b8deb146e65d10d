import { Box, Text } from "ink";
import { basename } from "node:path";
import type { DecisionRequest } from "../../engine/events.js";
import { Menu } from "../components.js";
import type { ScreenProps } from "./common.js";

export function SidecarTables({ tables }: { tables: Extract<DecisionRequest, { kind: "sidecar" }>["tables"] }) {
  return (
    <Box flexDirection="column">
      {tables.map((t) => (
        <Text key={t.name} wrap="wrap">{`  ${t.name}: ${t.rows} rows, ${t.present} already in the new file, ${t.merged} missing, ${t.conflicts} conflicting${t.mergeable ? "" : " (no such table in the baseline: kept in the archive)"}`}</Text>
      ))}
    </Box>
  );
}

export function Sidecar({ e }: ScreenProps) {
  const r = e.s.request as Extract<DecisionRequest, { kind: "sidecar" }>;
  return (
    <Box flexDirection="column">
      <Text bold wrap="wrap">{`Stage 2 — The training-telemetry sidecar ${basename(r.path)}`}</Text>
      <SidecarTables tables={r.tables} />
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

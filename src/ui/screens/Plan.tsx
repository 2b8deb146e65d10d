import { Box, Text } from "ink";
import { Menu } from "../components.js";
import { human, plainTitle } from "../format.js";
import type { ScreenProps } from "./common.js";

export function Plan({ e, rows }: ScreenProps) {
  const s = e.s;
  const steps = s.steps.filter((x) => x.stage > 0);
  // The engine's trial import, when it sends one with the plan (optional).
  const trial = (s.report as { trial?: { rowsIn: number; loaded: number; quarantined: number; columnsToQuarantine?: unknown[] } } | undefined)?.trial;
  const room = Math.max(3, rows - 8);
  const shown = steps.length > room ? steps.filter((x) => x.kind !== "read").slice(0, room) : steps;
  return (
    <Box flexDirection="column">
      <Text bold>{`The plan (digest ${s.digest})`}</Text>
      {shown.map((x) => (
        <Text
          key={x.id}
          wrap="wrap"
        >{`  ${x.stage} ${x.kind === "destructive" ? "[destructive] " : x.kind === "write" ? "[writes] " : ""}${plainTitle(x.title)}`}</Text>
      ))}
      {shown.length < steps.length ? <Text dimColor>{`  … and ${steps.length - shown.length} read-only check(s)`}</Text> : null}
      {trial ? (
        <Text wrap="wrap">{`Trial import (on a scratch copy): ${human(trial.loaded)} of ${human(trial.rowsIn)} rows would load, ${human(trial.quarantined)} go to legacy_quarantine${trial.columnsToQuarantine?.length ? `; values of ${trial.columnsToQuarantine.length} column(s) kept in quarantine` : ""}`}</Text>
      ) : null}
      <Text wrap="wrap">{`Backup: ${s.backupPath}`}</Text>
      <Text wrap="wrap">Destructive steps stop and ask for the file's name, with the evidence, before they start.</Text>
      <Menu
        options={[
          { label: "Start", value: "start" },
          { label: "Back", value: "back" },
          { label: "Quit (nothing was changed)", value: "quit" },
        ]}
        onSelect={(v) => (v === "quit" ? e.quit() : v === "back" ? e.back() : e.start())}
      />
    </Box>
  );
}

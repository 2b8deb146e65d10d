import { Box, Text } from "ink";
import { Menu } from "../components.js";
import type { ScreenProps } from "./common.js";

export function NoDb({ e }: ScreenProps) {
  const i = e.s.inspection;
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">{`No database at ${i?.resolved.display} (${i?.resolved.why}).`}</Text>
      <Text wrap="wrap">
        New here? A sample legacy database (ad-hoc versions, an unknown table, awkward values, a sidecar) can be made in a scratch folder to rehearse the whole
        runbook on.
      </Text>
      <Menu
        options={[
          { label: "Create a sample legacy database and rehearse on it", value: "sample" },
          { label: "Quit (pass --db PATH to use another database)", value: "quit" },
        ]}
        onSelect={(v) => (v === "quit" ? e.quit() : e.makeSample())}
      />
    </Box>
  );
}

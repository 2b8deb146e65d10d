import { Box, Text } from "ink";
import { Menu } from "../components.js";
import type { ScreenProps } from "./common.js";

/** Says what moved where, then offers to plan again or leave. */
export function RolledBack({ e }: ScreenProps) {
  const s = e.s;
  const msg = s.rolledBack?.message ?? "";
  const parts = msg
    .replace(/^rolled back run [^:]+:\s*/, "")
    .split(/;\s*|\.\s+(?=[A-Z])/)
    .map((p) => p.trim().replace(/\.$/, ""))
    .filter(Boolean);
  return (
    <Box flexDirection="column">
      <Text bold color="green">{`✓ done     Rolled back${s.report?.runId ? ` run ${s.report.runId}` : ""}`}</Text>
      {parts.map((p) => (
        <Text key={p} wrap="wrap">{`  ${p}`}</Text>
      ))}
      <Text wrap="wrap">{`Now: ${s.db} is ${s.report?.after.chain ?? "as it was before the run"}.`}</Text>
      <Menu
        options={[
          { label: "Plan the cutover again (Stage 0)", value: "plan" },
          { label: "Quit", value: "quit" },
        ]}
        initial={s.thenPlan ? 0 : 1}
        onSelect={(v) => (v === "plan" ? e.planAgain() : e.quit())}
      />
    </Box>
  );
}

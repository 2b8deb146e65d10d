import { Box, Text } from "ink";
import { Menu } from "../components.js";
import { rollbackLines } from "../../rollback/plan.js";
import type { ScreenProps } from "./common.js";

/** Says what moved where (the plan the engine carried out, in the words the dry-run used), then offers to plan again or leave. */
export function RolledBack({ e }: ScreenProps) {
  const s = e.s;
  // A finished rollback was allowed: the plan's refusal (if any) was overridden, so it is not repeated here.
  const plan = s.report?.outcome === "rolled-back" ? s.report.rollback : undefined;
  const lines = plan ? rollbackLines({ ...plan, refusal: null }) : [s.rolledBack?.message ?? ""];
  return (
    <Box flexDirection="column">
      <Text bold color="green">{`✓ done     Rolled back${s.report?.runId ? ` run ${s.report.runId}` : ""}`}</Text>
      {lines.filter(Boolean).map((p) => (
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

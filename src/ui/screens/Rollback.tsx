import { Box, Text } from "ink";
import { basename } from "node:path";
import { rollbackLines } from "../../rollback/plan.js";
import { TextField } from "../components.js";
import type { WizardState } from "../state.js";
import type { ScreenProps } from "./common.js";

/** What the rollback will move where: the engine's `RollbackPlan`, in the same words as the dry-run (never guessed here). */
function rollbackMoves(s: WizardState): string[] {
  const plan = s.rollbackFrom === "summary" ? s.report?.rollback : s.inspection?.unfinished?.rollback;
  return plan ? rollbackLines(plan) : [`What moves is read from the run's journal when you confirm; nothing moves before you type the name.`];
}

export function Rollback({ e }: ScreenProps) {
  const s = e.s;
  const name = basename(s.db ?? "");
  return (
    <Box flexDirection="column">
      <Text bold>{`Roll back${s.thenPlan ? ", then start over" : ""}: this moves files`}</Text>
      {rollbackMoves(s).map((l) => (
        <Text key={l} wrap="wrap">{`  ${l}`}</Text>
      ))}
      <Text wrap="wrap">{`Type the database's file name (${name}) to roll back.`}</Text>
      {s.emptyAnswer ? <Text bold wrap="wrap">{`An empty answer does nothing: type ${name}, or Esc to go back.`}</Text> : null}
      {s.rollbackError ? <Text color="red" wrap="wrap">{`✗ ${s.rollbackError}`}</Text> : null}
      <TextField key={`r${s.attempt}`} onSubmit={e.submitRollback} />
    </Box>
  );
}

import { Box, Text } from "ink";
import { basename, dirname, join } from "node:path";
import { TextField } from "../components.js";
import type { WizardState } from "../state.js";
import type { ScreenProps } from "./common.js";

/** What the rollback will move where, from what is known of the run (never guessed). */
export function rollbackMoves(s: WizardState): string[] {
  const db = s.db ?? "";
  const name = basename(db);
  if (s.rollbackFrom === "summary") {
    const r = s.report!;
    return [
      `${db} (the new file, with every write made since the swap) → ${join(r.workDir ?? dirname(db), "rolled-back-new.db")} (kept, not deleted)`,
      `${r.archive.path ?? "the archived original"} (the original) → ${db}`,
      ...(s.outputs.sidecar?.archive ? [`${String(s.outputs.sidecar.archive)} (the sidecar) → back beside ${name}`] : []),
      `Kept: the backup ${r.backup.path ?? "-"} and the report in ${r.workDir}.`,
    ];
  }
  const u = s.inspection?.unfinished;
  if (!u) return [];
  const out: string[] = [];
  if (u.swapPhase === "none" || u.swapPhase === "intent") out.push(`${name} is the original and stays where it is (never moved).`);
  else {
    if (u.primaryExists) out.push(`${db} (the new file, with every write made since the swap) → ${join(u.workDir, "rolled-back-new.db")} (kept, not deleted)`);
    out.push(`${u.archivedPrimary ?? join(u.archiveDir ?? u.workDir, name)} (the original) → ${db}`);
  }
  if (u.newExists && u.newPath) out.push(`Removed: the unfinished new file ${u.newPath} (built from the backup, which is kept).`);
  out.push(`Removed: partial files of the run in ${u.workDir}. Kept: the backup${u.backupPath ? ` ${u.backupPath}` : ""}, the journal and the report.`);
  return out;
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

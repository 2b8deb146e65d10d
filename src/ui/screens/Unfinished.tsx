import { Box, Text } from "ink";
import { basename } from "node:path";
import { Menu } from "../components.js";
import { plainTitle, STAGES } from "../format.js";
import type { ScreenProps } from "./common.js";

function swapWords(phase: string, db: string): string {
  const name = basename(db);
  switch (phase) {
    case "intent":
      return `The swap was about to begin: ${name} is still the original.`;
    case "primary-archived":
      return `The swap stopped halfway: the original is in the archive and there is no file at ${name}.`;
    case "new-in-place":
      return `The swap finished: ${name} is the new file; the original is in the archive.`;
    default:
      return `The original ${name} was never moved.`;
  }
}

/** The reopen screen: where the run stopped, in stages and files; Resume only where it can succeed. */
export function Unfinished({ e }: ScreenProps) {
  const s = e.s;
  const u = s.inspection!.unfinished!;
  const db = s.db ?? "";
  const where = u.nextStepTitle
    ? `before "${plainTitle(u.nextStepTitle)}" in Stage ${u.nextStepStage} (${STAGES[u.nextStepStage ?? 0]})${u.lastStepTitle ? `, after "${plainTitle(u.lastStepTitle)}" finished` : ""}`
    : u.lastStepTitle
      ? `in Stage ${u.lastStepStage} (${STAGES[u.lastStepStage ?? 0]}) at "${plainTitle(u.lastStepTitle)}"`
      : u.lastStep
        ? "during its steps"
        : "before its first step";
  const why = u.failed ? `: ${u.failed.message}` : u.interrupted ? ", stopped on request (Ctrl-C, q or a declined confirmation)" : "";
  const resumable = u.resumable !== false;
  const options = [
    ...(resumable ? [{ label: "Resume it (continue where it stopped)", value: "resume" }] : []),
    { label: "Roll back… (put the original back; asks first)", value: "rollback" },
    { label: "Start over… (roll back, then plan again)", value: "over" },
    { label: "Quit (leave the run as it is)", value: "quit" },
  ];
  const files: string[] = [];
  if (u.backupPath) files.push(`  Backup: ${u.backupPath}${u.backupExists === false ? " (not written)" : ""}`);
  if (u.archivedPrimary) files.push(`  The original (archived): ${u.archivedPrimary}`);
  if (u.newExists && u.newPath) files.push(`  The unfinished new file: ${u.newPath}`);
  return (
    <Box flexDirection="column">
      <Text bold wrap="wrap">{`An unfinished cutover of ${basename(db)}${u.startedAt ? ` (started ${u.startedAt})` : ""}`}</Text>
      <Text wrap="wrap">{`Recorded in ${u.workDir}`}</Text>
      <Text wrap="wrap">{`It stopped ${where}${why}.`}</Text>
      <Text wrap="wrap">{swapWords(u.swapPhase, db)}</Text>
      {files.map((f) => (
        <Text key={f} wrap="wrap">
          {f}
        </Text>
      ))}
      {!resumable ? <Text bold wrap="wrap">{`Resume is not offered: ${u.whyNot ?? "it would stop the same way"}. Roll back, then start over.`}</Text> : null}
      <Menu
        options={options}
        initial={0}
        onSelect={(v) => (v === "resume" ? e.resume() : v === "quit" ? e.quit() : e.askRollback("unfinished", v === "over"))}
      />
    </Box>
  );
}

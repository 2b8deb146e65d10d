import { Box, Text } from "ink";
import { basename } from "node:path";
import { Menu } from "../components.js";
import { fitLines, plainTitle, STAGES } from "../format.js";
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
export function Unfinished({ e, cols, rows }: ScreenProps) {
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
  // In screen order; on a small terminal the folder, the new file and the backup give way (in that
  // order) so the header naming the database stays on screen; where it stopped, what happened to
  // the original, and why Resume is not offered never do.
  const lines: { key: string; text: string; drop: number; bold?: boolean }[] = [
    { key: "title", text: `An unfinished ${u.kind ?? "cutover"} of ${basename(db)}${u.startedAt ? ` (started ${u.startedAt})` : ""}`, drop: 0, bold: true },
    { key: "dir", text: `Recorded in ${u.workDir}`, drop: 3 },
    { key: "where", text: `It stopped ${where}${why}.`, drop: 0 },
    { key: "swap", text: swapWords(u.swapPhase, db), drop: 0 },
  ];
  if (u.backupPath) lines.push({ key: "backup", text: `  Backup: ${u.backupPath}${u.backupExists === false ? " (not written)" : ""}`, drop: 1 });
  if (u.archivedPrimary) lines.push({ key: "archived", text: `  The original (archived): ${u.archivedPrimary}`, drop: 0 });
  if (u.newExists && u.newPath) lines.push({ key: "new", text: `  The unfinished new file: ${u.newPath}`, drop: 2 });
  if (!resumable)
    lines.push({ key: "why", text: `Resume is not offered: ${u.whyNot ?? "it would stop the same way"}. Roll back, then start over.`, drop: 0, bold: true });
  return (
    <Box flexDirection="column">
      {fitLines(lines, rows - options.length, cols).map((x) => (
        <Text key={x.key} bold={x.bold} wrap="wrap">
          {x.text}
        </Text>
      ))}
      <Menu
        options={options}
        initial={0}
        onSelect={(v) => (v === "resume" ? e.resume() : v === "quit" ? e.quit() : e.askRollback("unfinished", v === "over"))}
      />
    </Box>
  );
}

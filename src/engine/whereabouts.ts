import { existsSync } from "node:fs";
import { sameInode } from "../safety/identity.js";
import { archivedPath } from "../layout.js";

/**
 * What is where after a run stopped, from the journal's swap phase and the files themselves (never
 * "nothing was changed" when the swap had begun): the words a failure's "untouched" part says.
 */
export function whereabouts(
  p: { dbPath: string; newPath: string; archiveDir: string; workDir: string },
  phase: "none" | "intent" | "primary-archived" | "new-in-place",
  step: string | null,
): string {
  const archive = archivedPath(p.archiveDir, p.dbPath);
  const at = `Journal phase: ${phase === "none" ? "before the swap" : `swap ${phase}`}${step ? `, step ${step}` : ""}.`;
  if (phase === "none") return `${at} The primary ${p.dbPath} is untouched; this run's files are in ${p.workDir}.`;
  const originalAtName = existsSync(p.dbPath) && existsSync(archive) && sameInode(p.dbPath, archive);
  const parts: string[] = [at];
  if (!existsSync(p.dbPath)) parts.push(`There is no file at ${p.dbPath}.`);
  else if (originalAtName) parts.push(`${p.dbPath} is still the original${existsSync(archive) ? ` (also linked into the archive ${archive})` : ""}.`);
  else if (existsSync(archive) && existsSync(p.newPath) && sameInode(p.dbPath, p.newPath))
    parts.push(`The original was archived at ${archive}; the new file is at ${p.dbPath} and also at ${p.newPath}: the run stopped while undoing its swap.`);
  else if (existsSync(archive))
    parts.push(
      `The original was archived at ${archive}; ${existsSync(p.newPath) ? `the new file ${p.newPath} is not in place yet, and ${p.dbPath} is neither` : `the new file is in place at ${p.dbPath}`}.`,
    );
  else parts.push(`${p.dbPath} is there; the archive ${archive} is not.`);
  return parts.join(" ");
}

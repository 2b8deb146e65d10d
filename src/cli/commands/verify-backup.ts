import { formatCount, plural } from "../../util/count.js";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { verifyAgainstDatabase, type Comparison } from "../../backup/compare.js";
import { readBackup, ReferenceFormat } from "../../backup/read.js";
import { isVoxExportFile } from "../../backup/reference.js";
import { referenceFormatError } from "../../backup/import-input.js";
import { splitSequences } from "../../backup/format.js";
import { EXIT, failed, usage } from "../../errors.js";
import { isDatabaseFile, probeFile } from "../../db/probe.js";
import { ProgressLine } from "../progress.js";
import { assertNotSpecial } from "../../safety/owned.js";
import type { CommandResult, Ctx } from "../run.js";

export function openBackupOrThrow(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw usage({ what: `The backup ${abs} does not exist.`, untouched: "Nothing was read or written.", next: "Check the path." });
  if (statSync(abs).isDirectory())
    throw usage({ what: `The backup path ${abs} is a directory.`, untouched: "Nothing was read or written.", next: "Give the backup file." });
  // A FIFO or a device would block or never end: refused (3) before it is opened.
  assertNotSpecial("IN", abs, "input");
  return abs;
}

export async function verifyBackupCommand(ctx: Ctx, inArg: unknown): Promise<CommandResult> {
  const { out } = ctx;
  const path = openBackupOrThrow(String(inArg));
  // Told from the first line before reading on: a vox export file's long first row is streamed, not read whole.
  if (isVoxExportFile(path)) throw referenceFormatError(path);
  const progress = new ProgressLine(out, "verify");
  const resolved = ctx.resolve();
  const live = resolved.kind === "file" && isDatabaseFile(probeFile(resolved.path!));
  if (resolved.kind === "file" && existsSync(resolved.path!) && !live) {
    throw failed({
      what: `The database ${resolved.path} to compare against is not readable.`,
      untouched: "Nothing was written.",
      next: "Pass the right --db.",
    });
  }
  let result;
  let comparison: Comparison | null = null;
  try {
    const visitor = { onProgress: (p: { rowsDone: number; totalRows: number; table: string }) => progress.update(p.rowsDone, p.totalRows, p.table) };
    if (live) ({ read: result, comparison } = await verifyAgainstDatabase(path, resolved.path!, visitor));
    else result = readBackup(path, visitor);
  } catch (e) {
    if (e instanceof ReferenceFormat) throw referenceFormatError(path);
    throw e;
  } finally {
    progress.end();
  }
  out.text(`backup: ${path} (vox-cutover-backup v${result.header.version}, written ${result.header.createdAt} by ${result.header.tool})`);
  out.text(`  source: ${result.header.source.path ?? result.header.source.url} (chain ${result.header.chain})`);
  const counted = splitSequences(result.tables);
  out.text(
    `  structure, ${plural(counted.tables.length, "table hash", "table hashes")} and the whole-file hash ${result.fileSha256} recomputed: ok (${formatCount(counted.totalRows)} rows, ${formatCount(counted.sequences)} sqlite_sequence entries)`,
  );
  if (comparison) {
    if (comparison.ok) out.text(`  against ${resolved.path}: every table's count and hash equal`);
    else out.text(`  against ${resolved.path}: DIFFERENT — ${comparison.firstDifference}`);
  } else {
    out.text(
      resolved.source === "--db"
        ? `  no database at ${resolved.display}, the path given with --db: nothing was compared (check the path)`
        : `  no database at ${resolved.display} to compare against (pass --db to compare)`,
    );
  }
  const ok = comparison === null || comparison.ok;
  if (ok) out.text("verify-backup: ok");
  else out.text("verify-backup: MISMATCH — the backup does not equal the database. Nothing was written.");
  return {
    ok,
    exitCode: ok ? EXIT.ok : EXIT.refused,
    mode: "read",
    db: resolved,
    data: {
      backup: {
        path,
        verified: true,
        format: "vox-cutover-backup",
        version: result.header.version,
        sha256: result.fileSha256,
        createdAt: result.header.createdAt,
        source: result.header.source,
        chain: result.header.chain,
      },
      tables: counted.tables,
      totalRows: result.totalRows,
      sequences: counted.sequences,
      comparedWith: comparison ? resolved.path : null,
      comparison: comparison?.tables ?? null,
      firstDifference: comparison?.firstDifference ?? null,
    },
  };
}

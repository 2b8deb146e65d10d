import { assertNoUnfinishedRun } from "../../cutover/resume.js";
import { formatCount } from "../../util/count.js";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { keepModeTree, withWriteSafety } from "../../safety/guard.js";
import { DRILL_BACKUP_NAME } from "../../layout.js";
import { restoreBackup } from "../../backup/restore.js";
import { hashTable, listBackupTables } from "../../backup/tables.js";
import { writeVerifiedBackup } from "../../backup/verified.js";
import { jsonInt } from "../../db/classify.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { openReadOnly, openReadWrite } from "../../db/local.js";
import { EXIT, failed } from "../../errors.js";
import { hasLedger, recordLedger } from "../../db/ledger.js";
import { toolVersion } from "../../util/paths.js";
import type { CommandResult, Ctx } from "../run.js";
import { pausePoint } from "../../engine/testhooks.js";
import { stopPoint } from "../../util/cancel.js";
import { randomUUID } from "node:crypto";

interface DrillRecord {
  status: "pass" | "fail";
  source: string;
  restored: string;
  backup: { path: string; sha256: string };
  window: { start: string; end: string };
  toolVersion: string;
  canonicalHash: { source: string; restored: string; match: boolean };
  /** Every table but sqlite_sequence (whose rows are counted apart in `sequences`). */
  tables: { name: string; sourceRows: number; restoredRows: number; sourceSha256: string; restoredSha256: string | null; match: boolean }[];
  /** Table rows of the source (sqlite_sequence's not among them). */
  totalRows: number;
  /** sqlite_sequence: rows in the source and the restored file, and whether they are equal. */
  sequences: { source: number; restored: number; match: boolean };
}

function canonical(tables: { name: string; rows: number; sha: string | null }[]): string {
  const h = createHash("sha256");
  for (const t of [...tables].sort((a, b) => (a.name < b.name ? -1 : 1))) h.update(`${t.name}\t${t.rows}\t${t.sha ?? "-"}\n`);
  return h.digest("hex");
}

function drillMarkdown(r: DrillRecord): string {
  return [
    "# Backup/restore drill record",
    "",
    `- status: **${r.status}**`,
    `- verification window: ${r.window.start} – ${r.window.end}`,
    `- source: ${r.source}`,
    `- backup: ${r.backup.path} (sha256 ${r.backup.sha256})`,
    `- restored into: ${r.restored}`,
    `- canonical hash match: ${r.canonicalHash.match ? "yes" : "NO"}`,
    `  - source:   ${r.canonicalHash.source}`,
    `  - restored: ${r.canonicalHash.restored}`,
    `- tool: vox-cutover ${r.toolVersion}`,
    "",
    "| table | source rows | restored rows | match |",
    "|---|---:|---:|---|",
    ...r.tables.map((t) => `| ${t.name} | ${t.sourceRows} | ${t.restoredRows} | ${t.match ? "yes" : "**no**"} |`),
    "",
    `table rows: ${formatCount(r.totalRows)}; sqlite_sequence entries: ${formatCount(r.sequences.source)} in the source, ${formatCount(r.sequences.restored)} restored (${r.sequences.match ? "equal" : "**different**"})`,
    "",
  ].join("\n");
}

export async function drillCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file") throw failed({ what: "drill works on local files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const base = loadBaselineContext();
  const d = await diagnose(resolved, base);
  if (d.error) throw d.error;
  if (d.chain === "missing") throw failed({ what: `There is no database at ${resolved.path}.`, untouched: "Nothing was written.", next: "Check --db." });
  if (opts.apply) assertNoUnfinishedRun(resolved.path!); // its ledger row: resumed or rolled back first, a write its rollback would not know
  const { workDir, src, dst, ok, ledger, record, all } = await withWriteSafety(
    {
      command: "drill",
      dbPath: resolved.path!,
      workDir: typeof opts.workDir === "string" && opts.workDir ? resolve(opts.workDir) : undefined,
      lock: Boolean(opts.apply), // only --apply writes into the database (its ledger row)
      holders: Boolean(opts.apply),
      folderWrite: false,
    },
    async (g) => {
      const start = new Date().toISOString();
      const workDir = g.ensureWorkDir();
      const backup = await writeVerifiedBackup({
        dbPath: resolved.path!,
        outPath: join(workDir, DRILL_BACKUP_NAME),
        force: true,
        chain: d.chain,
        maxVersion: jsonInt(d.classification.maxVersion),
        baseline: { version: base.manifest.baselineVersion, digest: base.digest },
      });
      out.text(`backup: ${backup.path} verified (${formatCount(backup.rows)} rows)`);
      // Before the restore: an interrupted drill has no record, so its work dir goes (the database was only read).
      pausePoint("drill-backup-written");
      await stopPoint(
        ctx.token,
        "during the drill, before its restore",
        `Nothing was written to ${resolved.path} (it was only read); the drill's own folder ${workDir} (its backup, no record) was removed.`,
      );
      const restoredPath = join(workDir, `drill-restored-${Date.now()}.db`);
      const read = await restoreBackup(backup.path, restoredPath);
      const rdb = openReadOnly(restoredPath);
      const all: DrillRecord["tables"] = [];
      try {
        // One read snapshot (the restored file is the drill's own): rows are then read in chunks (row-lines.ts).
        rdb.exec("BEGIN");
        const restored = new Map(listBackupTables(rdb).map((t) => [t.name, t]));
        for (const t of read.tables) {
          const rt = restored.get(t.name);
          const h = rt ? hashTable(rdb, rt) : null;
          all.push({
            name: t.name,
            sourceRows: t.rows,
            restoredRows: h?.rows ?? 0,
            sourceSha256: t.sha256,
            restoredSha256: h?.sha256 ?? null,
            match: Boolean(h && h.rows === t.rows && h.sha256 === t.sha256),
          });
        }
      } finally {
        rdb.close();
      }
      // The canonical hash covers every section, sqlite_sequence's too; the counts keep it apart.
      const src = canonical(all.map((t) => ({ name: t.name, rows: t.sourceRows, sha: t.sourceSha256 })));
      const dst = canonical(all.map((t) => ({ name: t.name, rows: t.restoredRows, sha: t.restoredSha256 })));
      const ok = src === dst && all.every((t) => t.match);
      const tables = all.filter((t) => t.name !== "sqlite_sequence");
      const seqRow = all.find((t) => t.name === "sqlite_sequence");
      const sequences = { source: seqRow?.sourceRows ?? 0, restored: seqRow?.restoredRows ?? 0, match: seqRow ? seqRow.match : true };
      const record: DrillRecord = {
        status: ok ? "pass" : "fail",
        source: resolved.path!,
        restored: restoredPath,
        backup: { path: backup.path, sha256: backup.sha256 },
        window: { start, end: new Date().toISOString() },
        toolVersion: toolVersion(),
        canonicalHash: { source: src, restored: dst, match: src === dst },
        tables,
        totalRows: tables.reduce((n, t) => n + t.sourceRows, 0),
        sequences,
      };
      writeFileSync(join(workDir, "drill-record.json"), JSON.stringify(record, null, 2) + "\n");
      writeFileSync(join(workDir, "drill-record.md"), drillMarkdown(record));
      keepModeTree(workDir, g.id);
      g.started();
      let ledger = false;
      if (opts.apply && d.chain !== "current") {
        out.warn(
          `${resolved.path} is ${d.chain}: this tool writes ledger rows only into a database on the current baseline, so the drill record is only in the work dir.`,
        );
      } else if (opts.apply) {
        const db = openReadWrite(resolved.path!);
        try {
          if (hasLedger(db)) {
            recordLedger(db, {
              runId: randomUUID(),
              command: "drill",
              backupSha256: backup.sha256,
              status: ok ? "ok" : "fail",
              counts: { canonicalHash: src, restoredHash: dst, tables: tables.length, rows: backup.rows },
            });
            ledger = true;
          } else out.warn(`${resolved.path} has no cutover_ledger table (chain ${d.chain}); the drill record is only in the work dir.`);
        } finally {
          db.close();
        }
      }
      return { workDir, src, dst, ok, ledger, record, all };
    },
  );
  for (const t of all.filter((x) => !x.match))
    out.text(`MISMATCH ${t.name}: source ${t.sourceRows} rows ${t.sourceSha256}, restored ${t.restoredRows} rows ${t.restoredSha256}`);
  out.text(`canonical hash: source ${src}, restored ${dst} — ${ok ? "match" : "MISMATCH"}`);
  out.text(
    `drill record: ${join(workDir, "drill-record.md")} and drill-record.json${ledger ? "; ledger row written" : opts.apply ? "" : " (add --apply to record it in cutover_ledger)"}`,
  );
  out.text(`drill: ${ok ? "pass" : "FAIL"}`);
  return { ok, exitCode: ok ? EXIT.ok : EXIT.refused, mode: opts.apply ? "apply" : "read", db: resolved, data: { record, workDir, ledger } };
}

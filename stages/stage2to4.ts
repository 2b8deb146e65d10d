/**
 * Stage 2 — the historical training-telemetry sidecar: back it up (verified), merge the rows the
 * canonical file lacks, archive it. Stage 3 — telemetry consumers: check the JSONL files named.
 * Stage 4 — publication/news: content digests and the legacy attempt history.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseOutput } from "../src/engine/step-outputs.js";
import { openReadOnly } from "../src/db/local.js";
import { applyLegacyAttempts, checkNews, hasNewsTables } from "../src/news/news.js";
import { applySidecar, compareSidecar, type SidecarTable } from "../src/sidecar/sidecar.js";
import { VoxError } from "../src/errors.js";
import { sidecarPathFor } from "../src/sidecar/paths.js";
import { checkTelemetry } from "../src/telemetry/check.js";
import { fileKind } from "../src/safety/owned.js";
import { peekFormat } from "../src/backup/read.js";
import { assertNoHolders, identify } from "../src/safety/guard.js";
import { defineStep, type Step } from "./types.js";
import { formatCount } from "../src/util/count.js";

/** The commands that run Stage 0–1 only (`migrate`: a fold in a copy, swapped; no Stage 2–4). */
export const STAGE1_ONLY = new Set(["migrate", "import-legacy"]);

/**
 * Stage 2's comparison, read-only, against a file the cutover made before the swap (the dry-run's
 * trial file, or the new file right before the swap): the same work the apply's Stage 2 starts with
 * (the sidecar opened, compared, carried into that file's text encoding), so that what would stop
 * Stage 2 stops the run while the primary is untouched. With `holders`, an application holding the
 * sidecar open is refused (3) too. Null: no sidecar beside the database.
 */
export function sidecarBeforeSwap(
  dbPath: string,
  against: string,
  opts: { holders: boolean; untouched: string },
): { path: string; tables: SidecarTable[] } | null {
  const side = sidecarPathFor(dbPath);
  if (!existsSync(side)) return null;
  if (opts.holders) assertNoHolders(identify(side), "(the sidecar: an application still running?)");
  const ro = openReadOnly(against);
  try {
    return { path: side, tables: compareSidecar(side, ro) };
  } catch (e) {
    // The sidecar's own problem (not a database, a hot journal, a value that cannot be compared): named as Stage 2's, found before the swap.
    const v = e instanceof VoxError ? e : null;
    throw new VoxError(v?.kind ?? "failed", {
      what: `Stage 2 would stop on the sidecar ${side}: ${v ? v.what : e instanceof Error ? e.message : String(e)}`,
      untouched: opts.untouched,
      next: `${v?.kind === "refused" && v.next ? `${v.next} ` : ""}Look at it with vox-cutover sidecar --db ${dbPath} (or sqlite3 '${side}' 'PRAGMA integrity_check'); to cut over without it, move it out of the database's folder (vox does not need it) and run the cutover again.`,
      details: { ...v?.details, sidecar: side },
      ...(v ? { exitCode: v.exitCode } : {}),
    });
  } finally {
    ro.close();
  }
}

const sidecarStep: Step = defineStep({
  id: "sidecar",
  stage: 2,
  kind: "destructive",
  title: "Training-telemetry sidecar",
  needsConfirmation: true,
  // Recorded done = backed up, merged and archived: a resume reuses it (with its counts and warnings)
  // instead of running again and finding no sidecar (which would report "skipped" and drop them).
  reuse: "always",
  confirmation: (c) => (existsSync(sidecarPathFor(c.dbPath)) ? { expected: basename(sidecarPathFor(c.dbPath)) } : null),
  describe: (c) => {
    const p = sidecarPathFor(c.dbPath);
    return existsSync(p)
      ? `back up ${basename(p)} (verified), ${c.options.sidecarMerge ? "merge the rows the new file lacks (conflicts → legacy_quarantine), " : ""}move it with its -wal/-shm to ${join(c.archiveDir, basename(p))}`
      : `no ${basename(p)} beside the database: nothing to do`;
  },
  async prepare(c) {
    const side = sidecarPathFor(c.dbPath);
    if (!c.decide || !existsSync(side)) return;
    const ro = openReadOnly(c.dbPath);
    let tables;
    try {
      tables = compareSidecar(side, ro);
    } finally {
      ro.close();
    }
    const a = await c.decide({ kind: "sidecar", path: side, tables });
    if ("merge" in a) c.options.sidecarMerge = a.merge;
  },
  async run(c) {
    const side = sidecarPathFor(c.dbPath);
    const archived = join(c.archiveDir, basename(side));
    if (!existsSync(side)) {
      return existsSync(archived)
        ? { summary: `archived at ${archived}`, outputs: { exists: false, archive: archived } }
        : { summary: "no sidecar: nothing to do", outputs: { exists: false, archive: null }, skipped: true };
    }
    // The same gate as the sidecar command: an application holding the sidecar open would keep writing into the archive.
    assertNoHolders(identify(side), "(the sidecar: an application still running?)");
    const { backup, merged, conflicts, heldAlready, archive, tables } = await applySidecar({
      sidecar: side,
      dbPath: c.dbPath,
      workDir: c.workDir,
      archiveDir: c.archiveDir,
      runId: c.runId,
      merge: c.options.sidecarMerge,
      baseline: { version: c.base.manifest.baselineVersion, digest: c.base.digest },
    });
    // A sidecar put back from an earlier run's archive: its conflicts are there already and are not stored twice (sidecar.ts insertUnlessHeld).
    const held = heldAlready ? ` (${formatCount(heldAlready)} of them there already from an earlier merge, not stored twice)` : "";
    return {
      summary: `${c.options.sidecarMerge ? `${formatCount(merged)} row(s) merged, ${formatCount(conflicts)} conflict(s) quarantined${held}; ` : ""}archived at ${archive}`,
      ...(conflicts ? { warnings: [`${formatCount(conflicts)} sidecar conflict(s) put in legacy_quarantine${held}`] } : {}),
      outputs: {
        exists: true,
        path: side,
        merge: c.options.sidecarMerge,
        archive,
        merged,
        conflicts,
        backup: backup.path,
        backupSha256: backup.sha256,
        tables: tables.map((t) => ({ name: t.name, rows: t.rows, present: t.present, merged: t.merged, conflicts: t.conflicts })),
      },
    };
  },
});

const telemetryStep: Step = defineStep({
  id: "telemetry-check",
  stage: 3,
  kind: "read",
  title: "Telemetry consumers",
  describe: (c) =>
    c.options.telemetry.length
      ? `check ${c.options.telemetry.map((f) => basename(f)).join(", ")} against the envelope contract`
      : "no telemetry files named (--telemetry FILE…): skipped",
  async prepare(c) {
    if (!c.decide) return;
    const dir = dirname(c.dbPath);
    // Telemetry JSONL beside the database, not a backup (this run's, or any vox-cutover or vox export file: helper-101 found its own backup offered).
    const suggested = readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => join(dir, f))
      .filter((p) => p !== c.backupPath && fileKind(p) === "file" && peekFormat(p) === "unknown"); // a folder or a FIFO is never opened (helper-103)
    const a = await c.decide({ kind: "telemetry", suggested });
    if ("files" in a) c.options.telemetry = a.files;
  },
  // On resume the recorded result stands while its inputs do: the same files (the resume may name
  // none: the first attempt's), each with the identity and size it had when read. Otherwise it reruns
  // and says why.
  reuse: "check",
  reusable(c, o) {
    if ("skipped" in o) return c.options.telemetry.length === 0;
    if (!o.stamps) return false;
    return changedSince(o.stamps, c.options.telemetry) === null;
  },
  async run(c) {
    const earlier = parseOutput("telemetry-check", c.outputs.recorded("telemetry-check"));
    const before = earlier && !("skipped" in earlier) ? earlier.stamps : undefined;
    // A resume that names no files checks the first attempt's again (they changed: that is why it reruns).
    const named = c.options.telemetry.length ? c.options.telemetry : Object.keys(before ?? {});
    if (!named.length) return { summary: "skipped: no files named", outputs: { skipped: true }, skipped: true };
    const why = before ? `rerun on resume (${changedSince(before, c.options.telemetry) ?? "inputs changed"}): ` : "";
    // A FIFO or device would block the run after the swap: only regular files are read here.
    const special = named.filter((f) => !["file", "missing"].includes(fileKind(f)));
    const files = named.filter((f) => !special.includes(f));
    const stamps = Object.fromEntries(files.map((f) => [resolve(f), stampOf(f)]));
    const r = checkTelemetry(files);
    const skipped = special.length ? `; not read (not a regular file): ${special.join(", ")}` : "";
    const v = r.files.reduce((n, f) => n + f.violations, 0);
    return {
      summary: `${why}${formatCount(r.files.reduce((n, f) => n + f.lines, 0))} lines, ${formatCount(v)} violation(s)${v ? ` (first: ${r.violations[0]!.file}:${r.violations[0]!.line}: ${r.violations[0]!.message}; run telemetry-check for all)` : ""}${skipped}`,
      ...(v ? { warnings: [`${formatCount(v)} telemetry envelope violation(s)`] } : {}),
      outputs: { violations: v, files: r.files, notRegular: special, stamps },
    };
  },
});

/** A telemetry file as it was read: device, inode, size and modification time ("missing" when absent). */
function stampOf(f: string): string {
  try {
    const st = statSync(f, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return "missing";
  }
}

/** Why a recorded telemetry result no longer stands, in words (null: the same files, unchanged). */
function changedSince(stamps: Record<string, string>, named: string[]): string | null {
  const now = named.length ? named.map((f) => resolve(f)) : Object.keys(stamps);
  const added = now.filter((f) => !(f in stamps));
  if (added.length) return `other files named: ${added.map((f) => basename(f)).join(", ")}`;
  const changed = now.filter((f) => stampOf(f) !== stamps[f]);
  if (changed.length) return `${changed.map((f) => basename(f)).join(", ")} changed since the first attempt`;
  return now.length === Object.keys(stamps).length ? null : "fewer files named";
}

const newsStep: Step = defineStep({
  id: "news",
  stage: 4,
  kind: "write",
  title: "Publication/news",
  describe: () =>
    "check content_sha3_256 digests, report news without a digest, copy legacy news_publish_attempts into publication_attempts (idempotent, legacy rows kept)",
  async run(c) {
    const ro = openReadOnly(c.dbPath);
    let report;
    try {
      if (!hasNewsTables(ro)) return { summary: "no publication tables", outputs: {} };
      report = checkNews(ro);
    } finally {
      ro.close();
    }
    // Not reused on resume: it checks the file as it is now, and its copy is idempotent (a row copied before is not copied again).
    const copied = applyLegacyAttempts(c.dbPath, c.runId, report, { ledgerWhenNothing: false });
    return {
      summary: `${formatCount(report.manifests)} manifest digest(s) checked, ${formatCount(report.mismatches.length)} mismatch(es)${
        report.mismatches.length
          ? ` (${report.mismatches
              .map((m) => m.id)
              .slice(0, 5)
              .join(", ")}; run news-check)`
          : ""
      }; ${formatCount(report.missingDigest.length)} news row(s) without a digest; ${formatCount(copied)} legacy attempt(s) copied`,
      ...(report.mismatches.length
        ? { warnings: [`${formatCount(report.mismatches.length)} publication digest mismatch(es) (run news-check for the list)`] }
        : {}),
      outputs: { mismatches: report.mismatches.length, missingDigest: report.missingDigest.length, copied },
    };
  },
});

export const stages2to4: Step[] = [sidecarStep, telemetryStep, newsStep];

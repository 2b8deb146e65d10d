/**
 * Stage 2 — the historical training-telemetry sidecar: back it up (verified), merge the rows the
 * canonical file lacks, archive it. Stage 3 — telemetry consumers: check the JSONL files named.
 * Stage 4 — publication/news: content digests and the legacy attempt history.
 */
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { openReadOnly } from "../src/db/local.js";
import { applyLegacyAttempts, checkNews, hasNewsTables } from "../src/news/news.js";
import { applySidecar, compareSidecar } from "../src/sidecar/sidecar.js";
import { sidecarPathFor } from "../src/sidecar/paths.js";
import { checkTelemetry } from "../src/telemetry/check.js";
import { fileKind } from "../src/safety/owned.js";
import { assertNoHolders, identify } from "../src/safety/guard.js";
import { defineStep, type Step } from "./types.js";
import { formatCount } from "../src/util/count.js";

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
    const { backup, merged, conflicts, archive, tables } = await applySidecar({
      sidecar: side,
      dbPath: c.dbPath,
      workDir: c.workDir,
      archiveDir: c.archiveDir,
      runId: c.runId,
      merge: c.options.sidecarMerge,
      baseline: { version: c.base.manifest.baselineVersion, digest: c.base.digest },
    });
    return {
      summary: `${c.options.sidecarMerge ? `${formatCount(merged)} row(s) merged, ${formatCount(conflicts)} conflict(s) quarantined; ` : ""}archived at ${archive}`,
      ...(conflicts ? { warnings: [`${formatCount(conflicts)} sidecar conflict(s) put in legacy_quarantine`] } : {}),
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
    const suggested = readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => join(dir, f));
    const a = await c.decide({ kind: "telemetry", suggested });
    if ("files" in a) c.options.telemetry = a.files;
  },
  async run(c) {
    if (!c.options.telemetry.length) return { summary: "skipped: no files named", outputs: { skipped: true }, skipped: true };
    // A FIFO or device would block the run after the swap: only regular files are read here.
    const special = c.options.telemetry.filter((f) => !["file", "missing"].includes(fileKind(f)));
    const files = c.options.telemetry.filter((f) => !special.includes(f));
    const r = checkTelemetry(files);
    const skipped = special.length ? `; not read (not a regular file): ${special.join(", ")}` : "";
    const v = r.files.reduce((n, f) => n + f.violations, 0);
    return {
      summary: `${r.files.reduce((n, f) => n + f.lines, 0)} lines, ${v} violation(s)${v ? ` (first: ${r.violations[0]!.file}:${r.violations[0]!.line}: ${r.violations[0]!.message}; run telemetry-check for all)` : ""}${skipped}`,
      ...(v ? { warnings: [`${formatCount(v)} telemetry envelope violation(s)`] } : {}),
      outputs: { violations: v, files: r.files, notRegular: special },
    };
  },
});

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
    const copied = applyLegacyAttempts(c.dbPath, c.runId, report, { ledgerWhenNothing: false });
    return {
      summary: `${report.manifests} manifest digest(s) checked, ${report.mismatches.length} mismatch(es)${
        report.mismatches.length
          ? ` (${report.mismatches
              .map((m) => m.id)
              .slice(0, 5)
              .join(", ")}; run news-check)`
          : ""
      }; ${report.missingDigest.length} news row(s) without a digest; ${copied} legacy attempt(s) copied`,
      ...(report.mismatches.length
        ? { warnings: [`${formatCount(report.mismatches.length)} publication digest mismatch(es) (run news-check for the list)`] }
        : {}),
      outputs: { mismatches: report.mismatches.length, missingDigest: report.missingDigest.length, copied },
    };
  },
});

export const stages2to4: Step[] = [sidecarStep, telemetryStep, newsStep];

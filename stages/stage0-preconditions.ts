/**
 * Stage 0 — Preconditions. Which database and why, the repository's contract parity, room on the
 * disk, one cutover at a time, the file's own integrity, and the chain in plain words.
 */
import { isFailing } from "../src/schema/compare.js";
import { structureLines } from "../src/diagnose/diagnose.js";
import { assertIntact, integrityBeside, integrityOf, integrityOnTwo, takeIntegrityAhead } from "../src/db/integrity.js";
import { assertKnownCollationsAt } from "../src/db/collations.js";
import { bigLimit } from "../src/backup/big-source.js";
import { refused } from "../src/errors.js";
import { checkDrift } from "../src/schema/drift.js";
import { acquireLock, describeHolder, isStale, readLock } from "../src/safety/lock.js";
import { sameFileAs } from "../src/safety/identity.js";
import { swapMoved } from "../src/engine/journal.js";
import { existsSync } from "node:fs";
import { shellQuote } from "../src/util/shell.js";
import { REPLACED_GATE } from "../src/safety/content-version.js";
import { defineStep, type RunContext, type Step, type StepResult } from "./types.js";
import { asWarning, diskStep, foldersStep, holdersStep } from "./stage0-gates.js";

const resolveStep: Step = defineStep({
  id: "resolve",
  stage: 0,
  kind: "read",
  title: "Which database",
  describe: (c) => `use ${c.diagnosis.resolved.display} (${c.diagnosis.resolved.why})`,
  async run(c) {
    return { summary: `${c.dbPath} (${c.diagnosis.resolved.why})`, outputs: { path: c.dbPath, source: c.diagnosis.resolved.source } };
  },
});

const driftStep: Step = defineStep({
  id: "ssot-drift",
  stage: 0,
  kind: "read",
  title: "Contract parity (ssot-drift)",
  describe: () => "contract vs manifest vs baseline SQL: integer and digest must agree",
  async run(c) {
    const r = checkDrift(c.base.manifest, c.base.policy);
    if (!r.ok) {
      throw refused({
        what: `The repository drifts: ${r.problems.join("; ")}.`,
        untouched: "Nothing was changed.",
        next: `Run vox-cutover ssot-drift and fix it: ${r.fix.join("; ")}`,
      });
    }
    return { summary: `baseline ${r.manifest.baselineVersion}, digest ${r.computedDigest.slice(0, 18)}…`, outputs: { digest: r.computedDigest } };
  },
});

const lockStep: Step = defineStep({
  id: "lock",
  stage: 0,
  kind: "write",
  title: "One cutover at a time (lock)",
  reuse: "never",
  describe: () =>
    "take the lock keyed on the database file's identity (device + inode: every name of the file, hard links included, meets it) naming this run; a live holder's lock is never taken over",
  async run(c) {
    if (!c.lock) c.lock = acquireLock(c.dbPath, { command: c.command, runId: c.runId, workDir: c.workDir }, { breakLock: c.breakLock });
    assertStillPlannedFile(c);
    const t = c.lock.tookOver;
    return {
      summary: `no other cutover is running; this run holds the lock${t ? ` (a stale lock of pid ${t.pid} on ${t.host} from ${t.startedAt} was replaced)` : ""}`,
      outputs: { tookOver: t ?? null },
    };
  },
  // The dry-run's look, like the other apply-time gates: a live holder is a warning, the plan still shown.
  async check(c) {
    const h = readLock(c.dbPath);
    if (h && !isStale(h) && !c.breakLock) {
      const r = asWarning(
        refused({
          what: `Another cutover holds the lock on this database: ${describeHolder(h)}.`,
          untouched: "Nothing was changed.",
          next: "Wait for it to finish (or, if it is gone for good, use --break-lock).",
        }),
      );
      return { summary: r.summary, outputs: {}, warnings: r.warnings };
    }
    return { summary: `no other cutover is running${h ? ` (a stale lock of pid ${h.pid} would be replaced)` : ""}`, outputs: {} };
  },
});

/**
 * Before the swap began (under the lock in Stage 0, again before the swap's checks): the file at the path
 * must be the one this run was planned for (another cutover, a restore, or a file deleted and another
 * copied in may have replaced it since — cutting over its result would archive a file this run never
 * looked at, whatever its size and times). `begun`: the run's work dir exists (a resume, or Stage 1):
 * only its rollback closes it.
 */
export function assertStillPlannedFile(c: RunContext, begun = c.resuming): void {
  if (swapMoved(c.swapPhase) || c.outputs.get("swap") || sameFileAs(c.run.identity, c.dbPath) !== false) return;
  throw refused({
    what: `${c.dbPath} is another file than the one this run was planned for (${existsSync(c.dbPath) ? "replaced" : "gone"} since: its device, inode or birth time is not the run's starting file's — another cutover's swap, a restore, or a file deleted and another copied in).`,
    untouched: begun
      ? `Nothing was changed by this ${c.resuming ? "resume" : "run"} at ${c.dbPath}; the run's swap had not begun, so it never moved the file there.`
      : "Nothing was changed by this run.",
    next: begun
      ? `Look at the database again (vox-cutover diagnose); close this run with vox-cutover cutover --db ${shellQuote(c.dbPath)} --rollback --apply (it removes the run's temporary files and leaves the file at the name as it is), then run the dry-run and the apply again.`
      : "Look at the database again (vox-cutover diagnose), then run the dry-run and the apply again.",
    details: { gate: REPLACED_GATE },
  });
}

async function integrityHere(c: RunContext): Promise<StepResult<{ integrity: string }>> {
  if (c.diagnosis.sizeBytes === 0) return { summary: "ok (an empty file)", outputs: { integrity: "ok" } };
  // A collation SQLite has not got stops the check itself (and hides what else it would find): refused first, in its own words.
  assertKnownCollationsAt(c.dbPath);
  // A fresh apply's, started on another thread as it began (db/integrity.ts startIntegrityAhead): its answer, or if it has none, checked below.
  const ahead = takeIntegrityAhead(c.dbPath);
  const answer = ahead && (await ahead.result);
  if (answer && !("error" in answer)) {
    assertIntact(c.dbPath, answer);
    return { summary: `ok (checked on another thread while the plan was made${answer.how ? `; ${answer.how}` : ""})`, outputs: { integrity: "ok" } };
  }
  // A large rollback-journal file on two connections (db/integrity.ts integrityOnTwo), else on this one.
  const r = (await integrityOnTwo(c.dbPath, bigLimit())) ?? integrityOf(c.dbPath, bigLimit());
  assertIntact(c.dbPath, r);
  return { summary: r.how ? `ok (${r.how})` : "ok", outputs: { integrity: "ok" } };
}

const integrityStep: Step = defineStep({
  id: "integrity",
  stage: 0,
  kind: "read",
  title: "Integrity of the primary",
  describe: () => "PRAGMA integrity_check on the primary (read-only)",
  run: integrityHere,
  // The dry-run of the rebuild route (routeFor: a legacy chain) checks it on another thread beside its
  // trial import (src/db/integrity.ts integrityBeside), started as the trial begins (beside its export
  // and build); the trial waits for its answer before anything is kept or shown, and a file with
  // problems is refused then, as here (src/engine/trial.ts).
  async check(c) {
    const beside = c.diagnosis.chain === "legacy" && c.diagnosis.sizeBytes !== 0 ? integrityBeside(c.dbPath, bigLimit()) : null;
    if (!beside) return integrityHere(c);
    assertKnownCollationsAt(c.dbPath); // integrityHere's first step, on this path too
    c.integrityBeside = beside;
    return { summary: "checking beside the trial import (its answer comes before the plan's end)", outputs: { integrity: "beside" } };
  },
});

const chainStep: Step = defineStep({
  id: "diagnose",
  stage: 0,
  kind: "read",
  title: "Chain diagnosis",
  describe: (c) => `${c.diagnosis.chain}: ${c.diagnosis.explanation}`,
  async run(c) {
    return {
      summary: `${c.diagnosis.chain} — ${c.diagnosis.sentence}`,
      outputs: { chain: c.diagnosis.chain, maxVersion: c.diagnosis.classification.maxVersion?.toString() ?? null },
    };
  },
});

const structureStep: Step = defineStep({
  id: "structure",
  stage: 0,
  kind: "read",
  title: "Structure against the target",
  describe: (c) => `compare every table, column, key and index with ${c.base.origin.label}`,
  async run(c) {
    const s = c.diagnosis.structure;
    const origin = c.base.origin.label;
    if (!s) return { summary: `target: ${origin} (no tables to compare yet)`, outputs: { origin, equal: null } };
    const failing = s.diffs.filter(isFailing).length + s.missingFts.length;
    const kept = s.extraTables.length + s.diffs.filter((d) => d.extraColumns.length).length;
    const summary = s.equal
      ? `matches ${origin}${kept ? ` (kept beyond it: ${s.extraTables.length} table(s), extra columns in ${kept - s.extraTables.length} table(s))` : ""}`
      : `differs from ${origin} in ${failing} table(s): ${structureLines(s).slice(0, 3).join("; ")}${failing > 3 ? "; …" : ""}${c.diagnosis.chain === "legacy" ? " — the new file is built on the target" : " — repaired in a copy after the verified backup and swapped in, or rebuilt when it cannot be"}`;
    return {
      summary,
      outputs: {
        origin,
        originKind: c.base.origin.kind,
        equal: s.equal,
        fingerprint: s.fingerprint,
        targetFingerprint: s.targetFingerprint,
        differences: failing,
      },
    };
  },
});

export const stage0: Step[] = [resolveStep, driftStep, diskStep, lockStep, foldersStep, holdersStep, integrityStep, chainStep, structureStep];

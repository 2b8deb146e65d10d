/**
 * SIGTERM and SIGHUP (SIGINT is in interrupts.test.ts) in every command that writes or moves a file:
 * migrate, import-legacy, sidecar, news-check, drill and rehearse. Each case is one process paused by
 * a test hook at a point of its work (waiting on the hook's marker, never on a fixed sleep); after
 * the signal: the exit code (143/129), exactly one `interrupted:` line saying what state everything
 * is in, the folder and $TMPDIR listed (no partial, trial or scratch file, no lock or journal where
 * there is nothing to resume), no native panic, and a resume offered only where it works.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cli, interruptAt, makeBaselineDb, makeVoxDb, sampleWithFewerTables, sha256, snapshotDir, sqlite, tmp } from "../helpers.js";

const SIGNALS = [
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const;

let sampleDir: string;
let backup: string;

beforeAll(async () => {
  sampleDir = tmp();
  await sampleWithFewerTables(sampleDir, 20); // the tables a writer's interruption is tested with (helpers: the same for any table)
  backup = join(tmp(), "backup.jsonl");
  const e = await cli(["export-legacy", backup, "--db", join(sampleDir, "vox.db")]);
  if (e.exitCode !== 0) throw new Error(e.stderr);
});

/** A copy of the sample (vox.db and its sidecar) in a folder of its own. */
function sampleCopy(): { dir: string; db: string } {
  const dir = tmp();
  for (const f of ["vox.db", "vox_training_telemetry.db"]) copyFileSync(join(sampleDir, f), join(dir, f));
  return { dir, db: join(dir, "vox.db") };
}

/** The one note line, and nothing on stderr that a crash or a native abort would print. */
function oneNote(stderr: string): string {
  const notes = stderr.split("\n").filter((l) => /^interrupted:/.test(l));
  expect(notes, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |Assertion failed|FATAL|panicked|Unexpected failure/);
  return notes[0]!;
}

describe("every writing command stops on SIGTERM and SIGHUP, says where things are, and leaves nothing half-made", () => {
  it.each(SIGNALS)("migrate --apply (behind) %s after the export: exit %i, the journal kept, and the resume it offers works", async (sig, code) => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeVoxDb(db, "60", [59, 60], "INSERT INTO agent_reliability(agent_id, reliability) VALUES ('a', 7.5);");
    const orig = sha256(db);
    const { res, tmpdirAfter } = await interruptAt(["migrate", "--db", db, "--apply"], "after:export", sig);
    expect(res.exitCode, res.stderr).toBe(code);
    const note = oneNote(res.stderr);
    expect(note).toMatch(new RegExp(`Interrupted \\(${sig}\\) at a safe point: before verify-backup\\. The journal records where the run stopped`));
    expect(note).not.toMatch(/same command plus --resume/); // migrate has no --resume: the note names the command that has
    const resume = /Resume: (vox-cutover cutover --db \S+ --resume --apply)/.exec(note);
    expect(resume, note).not.toBeNull();
    expect(tmpdirAfter).toEqual([]);
    expect(sha256(db)).toBe(orig); // the primary is never touched before the swap
    expect(readdirSync(dir).sort()).toEqual(["vox-cutover-runs", "vox.db"]); // no new file, no lock left
    const again = await cli(resume![1]!.split(" ").slice(1));
    expect(again.exitCode, again.stderr).toBe(0);
    expect(sqlite(db, "SELECT max(version) FROM schema_version")).toBe("66");
    expect(sqlite(db, "SELECT typeof(reliability) || ':' || reliability FROM agent_reliability WHERE agent_id = 'a'")).toBe("real:7.5");
  });

  it("import-legacy --apply SIGTERM before the load: exit 143, the missing target not created, no lock, nothing to resume", async () => {
    const dir = tmp();
    const db = join(dir, "new.db");
    const { res, tmpdirAfter } = await interruptAt(["import-legacy", backup, "--db", db, "--apply"], "import-start", "SIGTERM");
    expect(res.exitCode, res.stderr).toBe(143);
    expect(oneNote(res.stderr)).toMatch(
      /Interrupted \(SIGTERM\) before import-legacy loaded anything\. Nothing was imported: .*new\.db is as it was \(still missing: it was not created\) and the lock was released\. Run the same command again when ready; there is nothing to resume or roll back\./,
    );
    expect(res.stderr).not.toMatch(/--resume/);
    expect(readdirSync(dir)).toEqual([]);
    expect(tmpdirAfter).toEqual([]);
  });

  it("import-legacy dry-run SIGHUP mid-load (one synchronous transaction): it finishes, says its output is complete, exit 129, the trial file gone", async () => {
    const dir = tmp();
    const db = join(dir, "new.db");
    const { res, tmpdirAfter } = await interruptAt(["import-legacy", backup, "--db", db], "import-progress", "SIGHUP");
    expect(res.exitCode, res.stderr).toBe(129);
    expect(oneNote(res.stderr)).toBe("interrupted: SIGHUP arrived after import-legacy had done its work; what it printed above is complete and true.");
    expect(res.stdout).toMatch(/trial: an import into a scratch file, removed\.\ndry-run: nothing was changed/);
    expect(readdirSync(dir)).toEqual([]);
    expect(tmpdirAfter).toEqual([]);
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "import-legacy --apply %s mid-load (one synchronous transaction, not cut): the load commits whole, then one note and exit %i at once; no lock, no journal or partial file, sqlite3 counts every loaded row",
    async (sig, code) => {
      const dir = tmp();
      const db = join(dir, "new.db");
      const t0 = Date.now();
      const { res, tmpdirAfter } = await interruptAt(["import-legacy", backup, "--db", db, "--apply", "--json"], "import-progress", sig);
      expect(res.exitCode, res.stderr).toBe(code);
      expect(oneNote(res.stderr)).toBe(`interrupted: ${sig} arrived after import-legacy had done its work; what it printed above is complete and true.`);
      expect(Date.now() - t0).toBeLessThan(60_000); // right after the load, not after the pause's budget
      const out = JSON.parse(res.stdout) as { loaded: number; quarantined: number; partial: number; sequences: { quarantined: number } };
      expect(readdirSync(dir)).toEqual(["new.db"]); // no lock, no -journal, no .partial beside it
      expect(tmpdirAfter).toEqual([]);
      const own = new Set(["legacy_quarantine", "cutover_ledger", "sqlite_sequence"]);
      const tables = sqlite(
        db,
        "SELECT name FROM sqlite_master WHERE type='table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '%\\_fts\\_%' ESCAPE '\\'",
      )
        .trim()
        .split("\n")
        .filter((t) => !own.has(t));
      // every table's count(*) in one sqlite3 call (one process, not one per table)
      const rows = Number(sqlite(db, `SELECT ${tables.map((t) => `(SELECT count(*) FROM "${t.replace(/"/g, '""')}")`).join(" + ")}`));
      expect(rows).toBeGreaterThanOrEqual(out.loaded); // every loaded row is there (baseline seed rows may add to it)
      expect(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine"))).toBe(out.quarantined + out.partial + out.sequences.quarantined);
      expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    },
  );

  it.each(SIGNALS)(
    "sidecar --apply --merge %s after its backup: exit %i, the sidecar neither merged nor moved, the run's folder removed",
    async (sig, code) => {
      const dir = tmp();
      const db = join(dir, "vox.db");
      makeBaselineDb(db);
      copyFileSync(join(sampleDir, "vox_training_telemetry.db"), join(dir, "vox_training_telemetry.db"));
      const before = snapshotDir(dir);
      const { res, tmpdirAfter } = await interruptAt(["sidecar", "--db", db, "--apply", "--merge"], "sidecar-backup-written", sig);
      expect(res.exitCode, res.stderr).toBe(code);
      expect(oneNote(res.stderr)).toMatch(
        new RegExp(
          `Interrupted \\(${sig}\\) after the sidecar's backup, before anything changed\\. Nothing was merged or moved: .* the run's folder .* was removed\\. .*nothing to resume`,
        ),
      );
      expect(snapshotDir(dir)).toEqual(before); // no vox-cutover-runs/, no lock, both files byte-identical
      expect(tmpdirAfter).toEqual([]);
    },
  );

  it.each(SIGNALS)("news-check --apply %s before the copy: exit %i, nothing copied, no lock", async (sig, code) => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    sqlite(db, "INSERT INTO news_publish_attempts(news_id, content_sha3_256, attempted_at_ms, result_json) VALUES ('n1', 'd1', 1700000000000, '{}')");
    const before = snapshotDir(dir);
    const { res, tmpdirAfter } = await interruptAt(["news-check", "--db", db, "--apply"], "news-before-copy", sig);
    expect(res.exitCode, res.stderr).toBe(code);
    expect(oneNote(res.stderr)).toMatch(
      new RegExp(`Interrupted \\(${sig}\\) before news-check --apply copied anything\\. Nothing was copied: .* is as it was and the lock was released\\.`),
    );
    expect(snapshotDir(dir)).toEqual(before);
    expect(sqlite(db, "SELECT count(*) FROM publication_attempts")).toBe("0");
    expect(tmpdirAfter).toEqual([]);
  });

  it.each(SIGNALS)("drill --apply %s after its backup: exit %i, no record, its folder removed, the database only read", async (sig, code) => {
    const { dir, db } = sampleCopy();
    const before = snapshotDir(dir);
    const { res, tmpdirAfter } = await interruptAt(["drill", "--db", db, "--apply"], "drill-backup-written", sig);
    expect(res.exitCode, res.stderr).toBe(code);
    expect(oneNote(res.stderr)).toMatch(
      new RegExp(`Interrupted \\(${sig}\\) during the drill, before its restore\\. Nothing was written to .*; the drill's own folder .* was removed\\.`),
    );
    expect(snapshotDir(dir)).toEqual(before);
    expect(tmpdirAfter).toEqual([]);
  });

  it.each(SIGNALS)("rehearse %s after its export: exit %i, its scratch folder removed, no resume of a clone that is gone", async (sig, code) => {
    const { dir, db } = sampleCopy();
    const before = snapshotDir(dir);
    const { res, tmpdirAfter } = await interruptAt(["rehearse", "--db", db], "after:export", sig);
    expect(res.exitCode, res.stderr).toBe(code);
    expect(oneNote(res.stderr)).toMatch(new RegExp(`Interrupted \\(${sig}\\).*There is nothing to resume or roll back`));
    expect(res.stderr).not.toMatch(/--resume|Resume with|Resume:/);
    expect(snapshotDir(dir)).toEqual(before);
    expect(tmpdirAfter).toEqual([]);
    expect(existsSync(join(dir, "vox-cutover-runs"))).toBe(false);
  });
});

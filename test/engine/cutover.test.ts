import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runDir } from "./swap-files.js";
import {
  cli,
  cliEnv,
  launch,
  makeVoxDb,
  pausedAt,
  sampleInto,
  sampleWithFewerTables,
  sha256,
  sha3sums,
  snapshotDir,
  sqlite,
  tmp,
  writeTimesBack,
} from "../helpers.js";
import { runCutover } from "../../src/cutover/index.js";
import { resolveDatabase } from "../../src/db/resolve.js";
import { ROLLED_BACK_NEW, SIDECAR_NAME } from "../../src/layout.js";
import { lockFileOf } from "../../src/safety/lock.js";

function sampleIn(rows = 40): Promise<{ dir: string; db: string; orig: string }> {
  return sampleInto(tmp(), rows);
}

/**
 * The sample cut to the tables the run's mechanics are tested with (sampleWithFewerTables): for the
 * tests that check refusals, signals and rollbacks (the file put back byte-identical), which do the
 * same for any table. The tests that check the new file's rows (checkNewFile) take the whole sample.
 */
function cutSampleIn(rows: number): Promise<{ dir: string; db: string; orig: string }> {
  return sampleWithFewerTables(tmp(), rows);
}

/** Kills a run paused at its pause point with SIGKILL (a real process: what is tested is kill -9 there). */
async function kill9(child: Awaited<ReturnType<typeof pausedAt>>["child"]): Promise<void> {
  child.kill("SIGKILL");
  expect((await child).signal).toBe("SIGKILL");
}

/** Starts `cutover --db DB <args>`, waits until it reaches `point`, and kills it there with SIGKILL. */
async function killAt(db: string, point: string, args: string[] = ["--apply"]): Promise<void> {
  const { child } = await pausedAt(["cutover", "--db", db, ...args], point);
  await kill9(child);
}

/**
 * `cutover --db DB --rollback --apply` run by the engine in this process: a rollback after a kill is
 * about the files it leaves, not about processes or exit codes (the CLI's rollback is tested above
 * and in test/guard). Saves a Node start per case. (Only rollbacks: a run that exports or imports
 * needs the built worker files, so it runs as the CLI.)
 */
function rollBackHere(db: string) {
  return runCutover({ resolved: resolveDatabase({ db }, {}), apply: true, rollback: true, command: "cutover", emit: () => {} });
}

/** Temporary files of ours left beside the database (none may be after a finished resume or rollback). */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes("vox-cutover-new") || f.includes("building") || f.endsWith(".lock"));
}

/** The invariant after any kill: the old primary in place (byte-identical) or the finished new one. */
function oldOrNew(db: string, orig: string): "old" | "new" {
  if (sha256(db) === orig) return "old";
  expect(sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("59,60,66");
  return "new";
}

function checkNewFile(db: string, archive: string): void {
  expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  const tables = ["embeddings", "names", "search_document_chunks", "knowledge_nodes", "objects", "package_deps", "news_publish_attempts"];
  const [got, want] = [sha3sums(db, tables), sha3sums(archive, tables)]; // one sqlite3 process per file
  tables.forEach((t, i) => expect(got[i], t).toBe(want[i]));
  // Whole rows in quarantine: the user's own tables and the ad-hoc schema_version rows (100, 101, 110).
  const whole = Number(
    sqlite(
      db,
      "SELECT count(*) FROM legacy_quarantine WHERE reason NOT LIKE 'unknown-columns%' AND reason NOT LIKE 'unlisted-key%' AND reason NOT LIKE 'sidecar%' AND reason NOT LIKE 'sequence%'",
    ),
  );
  expect(whole).toBe(Number(sqlite(archive, "SELECT count(*) FROM user_bookmarks")) + Number(sqlite(archive, "SELECT count(*) FROM user_kv")) + 3);
  expect(sqlite(db, "SELECT DISTINCT substr(reason, 1, 21) FROM legacy_quarantine WHERE source_table = 'schema_version'")).toBe("legacy-schema-version");
  expect(Number(sqlite(db, "SELECT count(*) FROM users"))).toBe(Number(sqlite(archive, "SELECT count(*) FROM users")));
}

/** The verify step's journaled outputs in a run folder. */
function verifyOutputs(rd: string): Record<string, unknown> {
  const lines = readFileSync(join(rd, "journal.jsonl"), "utf8").split("\n").filter(Boolean);
  return lines.map((l) => JSON.parse(l)).findLast((e) => e.e === "step-done" && e.step === "verify-backup").outputs;
}

/**
 * One 40-row sample and its dry-run, shared by the two tests below (the dry-run's plan, then the
 * --apply given its digest): made once, on first use, so either test also runs alone.
 */
let dry40: Promise<{
  dir: string;
  db: string;
  orig: string;
  before: Record<string, string>;
  after: Record<string, string>;
  r: Awaited<ReturnType<typeof cli>>;
}>;
function dryRun40() {
  dry40 ??= (async () => {
    const { dir, db, orig } = await sampleIn();
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--json"]);
    return { dir, db, orig, before, after: snapshotDir(dir), r };
  })();
  return dry40;
}

describe("cutover", () => {
  it("dry-run prints the plan and its digest and leaves everything byte-identical", async () => {
    const { before, after, r } = await dryRun40();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.planDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(r.json.steps.map((s: any) => s.id)).toEqual([
      "resolve",
      "ssot-drift",
      "disk",
      "lock",
      "folders",
      "holders",
      "integrity",
      "diagnose",
      "structure",
      "export",
      "verify-backup",
      "build-import",
      "checks",
      "primary-unchanged",
      "swap",
      "ledger",
      "sidecar",
      "telemetry-check",
      "news",
    ]);
    expect(r.json.steps.find((s: any) => s.id === "swap").kind).toBe("destructive");
    expect(after).toEqual(before);
  });

  it("--apply keeps every row, archives the original byte-identical, writes the reports, and a second apply is a no-op", async () => {
    const { dir, db, orig, r: dry } = await dryRun40(); // the dry-run left every file byte-identical (the test above)
    const sideOrig = sha256(join(dir, "vox_training_telemetry.db"));
    expect(dry.exitCode, dry.stderr).toBe(0);
    const r = await cli(["cutover", "--db", db, "--apply", "--plan", dry.json.planDigest, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const j = r.json;
    expect(j.before.chain).toBe("legacy");
    expect(j.after.chain).toBe("current");
    expect(j.backup.verified).toBe(true);
    expect(existsSync(j.backup.path)).toBe(true);
    expect(sha256(j.archive.path)).toBe(orig);
    checkNewFile(db, j.archive.path);
    expect(j.quarantined).toBeGreaterThan(0);
    // The report's count of legacy_quarantine is the table's (import, partial values, sidecar conflicts together).
    expect(j.quarantineTable.rows).toBe(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine")));
    expect(j.quarantineTable.byReason["sidecar-conflict"]).toBe(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason = 'sidecar-conflict'")));
    const users = j.tables.find((t: any) => t.name === "users");
    expect(users.rowsBefore).toBeGreaterThan(0);
    expect(users).toMatchObject({ rowsAfter: users.rowsBefore, quarantined: 0 });
    expect(j.tables.find((t: any) => t.name === "user_bookmarks")).toMatchObject({ target: null, rowsAfter: 0 });
    expect(j.tables.find((t: any) => t.name === "user_bookmarks").quarantined).toBeGreaterThan(0);
    expect(sqlite(db, "SELECT command FROM cutover_ledger ORDER BY id")).toBe("cutover:import\ncutover\nsidecar\nnews-check");
    // Stage 2: the sidecar was merged and archived byte-identical; Stage 4: legacy attempts copied
    expect(existsSync(join(dir, "vox_training_telemetry.db"))).toBe(false);
    expect(sha256(join(runDir(dir), "archive", "vox_training_telemetry.db"))).toBe(sideOrig);
    const merged = r.json.steps.find((s: any) => s.id === "sidecar").summary;
    expect(merged).toMatch(/[1-9]\d* row\(s\) merged/);
    expect(Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason = 'sidecar-conflict'"))).toBeGreaterThan(0);
    expect(Number(sqlite(db, "SELECT count(*) FROM publication_attempts WHERE channel = 'legacy_news_publish'"))).toBe(
      Number(sqlite(db, "SELECT count(*) FROM news_publish_attempts")),
    );
    const rd = runDir(dir);
    // Nothing wrote to the primary since the export: the verify counted it and took the export's hashes (content version).
    expect(verifyOutputs(rd).live).toBe("content-version");
    expect(j.steps.find((s: any) => s.id === "verify-backup").summary).toMatch(/counts equal to the live primary's .*unchanged since \(content version\)/);
    expect(JSON.parse(readFileSync(join(rd, "report.json"), "utf8")).archive.path).toBe(j.archive.path);
    expect(readFileSync(join(rd, "report.md"), "utf8")).toMatch(/--rollback --apply/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(lockFileOf(db))).toBe(false);
    // Current now: nothing to cut over. Stage 2's and Stage 4's work that came back since (a sidecar put back, a legacy news
    // attempt an older vox wrote) is named with its command, not hidden behind "Nothing to do".
    copyFileSync(join(runDir(dir), "archive", "vox_training_telemetry.db"), join(dir, "vox_training_telemetry.db"));
    sqlite(db, "INSERT INTO news_publish_attempts(news_id, content_sha3_256, attempted_at_ms, result_json) VALUES ('n-late', 'ab', 1, '{}')");
    const again = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(again.json.outcome).toBe("already-done");
    expect(again.json.message).toMatch(
      /^Nothing to do: .* the ledger records the cutover run .* Still to do: a training-telemetry sidecar sits beside it \(Stage 2\): vox-cutover sidecar --db .*vox\.db shows it, with --apply --merge it is merged and archived; 1 legacy news attempt not yet in publication_attempts \(Stage 4\): vox-cutover news-check --db .*vox\.db --apply copies them\.$/,
    );
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger")).toBe("4");
  });

  it("a behind database in WAL mode (cleanly closed, no -wal) is folded in a copy and swapped in after the verified backup", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    makeVoxDb(db, "60", [59, 60]);
    sqlite(db, "PRAGMA journal_mode=WAL; INSERT INTO users(id, display_name) VALUES ('u1', 'kept');");
    expect(existsSync(`${db}-wal`)).toBe(false);
    const dry = await cli(["cutover", "--db", db, "--json"]);
    expect(dry.json.steps.map((s: any) => s.id)).toContain("fold");
    const r = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.after.chain).toBe("current");
    expect(sqlite(db, "SELECT id, display_name FROM users")).toBe("u1|kept");
    expect(r.json.backup.verified).toBe(true);
    expect(verifyOutputs(runDir(dir)).live).toBe("content-version"); // the fold's route verifies the same way
  });

  it("--plan with a stale digest is refused (exit 3)", async () => {
    const { dir, db } = await cutSampleIn(10);
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--apply", "--plan", "ffffffffffffffff"]);
    expect(r.exitCode).toBe(3);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("not enough disk is refused (exit 3) before anything is written", async () => {
    const { dir, db } = await cutSampleIn(10);
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--apply"], { env: { VOX_CUTOVER_FREE_BYTES: "1000" } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Not enough free disk space/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("a primary modified between export and swap is detected (exit 3) and kept", async () => {
    const { db } = await sampleIn(10);
    await killAt(db, "after:checks");
    sqlite(db, "INSERT INTO users(id, display_name) VALUES ('u-late', 'written-during-cutover')");
    const modified = sha256(db);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/changed since the export|does not equal the primary/);
    expect(sha256(db)).toBe(modified);
    const rb = await cli(["cutover", "--db", db, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(db)).toBe(modified);
    expect(existsSync(join(db, "..", ".vox.db.vox-cutover-new"))).toBe(false);
  });
});

describe("kill -9 at every stage, then resume or roll back: nothing lost", () => {
  // Every point a run can be killed at, in the order a run passes them. Each is a real process killed
  // with SIGKILL there. The recoveries are chained on one database per test: the run that resumes from
  // (or starts afresh after rolling back) one point is itself killed at the next, so every point is
  // both a kill and a recovery, with a fixture built once and one process per point.
  const POINTS = [
    "after:lock",
    "export-progress",
    "after:export",
    "after:verify-backup",
    "import-progress",
    "after:build-import",
    "after:checks",
    "after:primary-unchanged",
    "swap-archived",
    "after:swap",
    "after:ledger",
    "after:sidecar",
    "after:telemetry-check",
  ];
  const PAST_SWAP = ["after:swap", "after:ledger", "after:sidecar", "after:telemetry-check"];
  // 150 rows a table: more rows than the import's progress interval (16,384), so the resume chain's import-progress is a
  // kill mid-copy of the rows. The rollback chains take the cut sample of 10 rows (cutSampleIn): their import-progress comes as
  // the first table copied ahead, still a kill inside the import, and what they check is the file put back.
  const ROWS = 150;

  it("killed at every point in turn, each --resume --apply goes on from where the last one died; the last finishes with every row", async () => {
    const { dir, db, orig } = await sampleIn(ROWS);
    // after:lock: a second run meanwhile is refused naming the live holder (pid, command, --break-lock) …
    const { child: first } = await pausedAt(["cutover", "--db", db, "--apply"], "after:lock");
    const second = await cli(["cutover", "--db", db, "--apply"]);
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`pid ${first.pid} on .*running \`cutover\``));
    expect(second.stderr).toMatch(/--break-lock/);
    await kill9(first);
    expect(sha256(db)).toBe(orig);
    // … and once it is killed, Stage 0 left nothing to resume: a fresh --apply replaces its stale lock.
    let args = ["--apply"];
    for (const point of POINTS.slice(1)) {
      const { child } = await pausedAt(["cutover", "--db", db, ...args], point);
      if (point === "after:export") {
        // While it runs, a plain --apply says it is still running (not that it stopped).
        const live = await cli(["cutover", "--db", db, "--apply"]);
        expect(live.exitCode).toBe(3);
        expect(live.stderr).toMatch(new RegExp(`still running \\(pid ${child.pid}`));
        expect(live.stderr).not.toMatch(/stopped after/);
      }
      await kill9(child);
      // The primary's name is never empty: the old file (byte-identical) or the finished new one.
      expect(existsSync(db), point).toBe(true);
      expect(["old", "new"]).toContain(oldOrNew(db, orig));
      if (point === "export-progress") {
        const lock = readFileSync(join(runDir(dir), "journal.jsonl"), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .find((e) => e.e === "step-done" && e.step === "lock");
        expect(lock?.outputs?.tookOver?.pid, "the stale lock of the run killed at after:lock was taken over").toBe(first.pid);
      }
      if (point === "after:verify-backup") {
        // This resume started at the verify: the primary unchanged since the export, it took the export's reading.
        expect(verifyOutputs(runDir(dir)).live).toBe("content-version");
      }
      if (point === "after:export") {
        // An unfinished run blocks a fresh one until --resume or --rollback (exit 3, both named).
        const fresh = await cli(["cutover", "--db", db, "--apply"]);
        expect(fresh.exitCode).toBe(3);
        expect(fresh.stderr).toMatch(/unfinished cutover/);
        expect(fresh.stderr).toMatch(/stopped after export/);
        expect(fresh.stderr).toMatch(/--resume --apply/);
        expect(fresh.stderr).toMatch(/--rollback --apply/);
      }
      args = ["--resume", "--apply"];
    }
    const r = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.outcome).toBe("completed");
    expect(oldOrNew(db, orig)).toBe("new");
    expect(r.json.archive.path).toBe(join(runDir(dir), "archive", "vox.db"));
    expect(sha256(r.json.archive.path)).toBe(orig);
    checkNewFile(db, r.json.archive.path);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover'")).toBe("1");
    // Resume never recomputes the diagnosis from the new file: the ledger row (written by the run
    // resumed after the swap) and the report keep the chain the run started from.
    expect(r.json.before.chain).toBe("legacy");
    expect(sqlite(db, "SELECT json_extract(counts_json, '$.chainBefore') FROM cutover_ledger WHERE command = 'cutover'")).toBe("legacy");
    expect(leftovers(dir)).toEqual([]);
  });

  /** Kill at each point, roll back, check the original is back; the next point's run is a fresh cutover after that rollback. */
  async function killAndRollBack(points: string[]): Promise<void> {
    const { dir, db, orig } = await cutSampleIn(10);
    const side = join(dir, SIDECAR_NAME);
    const sideOrig = sha256(side);
    for (const point of points) {
      await killAt(db, point);
      expect(existsSync(db), point).toBe(true);
      expect(["old", "new"]).toContain(oldOrNew(db, orig));
      const rb = await rollBackHere(db);
      expect(rb.outcome, point).toBe("rolled-back");
      if (point === "export-progress") {
        // a crash before the backup was finished: the rollback does not mention a backup that does not exist
        expect(rb.message).not.toMatch(/backup \S+ is kept/);
        expect(rb.message).toMatch(/No backup had been finished/);
      }
      expect(sha256(db), `primary after a rollback from ${point}`).toBe(orig);
      expect(sha256(side), `sidecar after a rollback from ${point}`).toBe(sideOrig);
      expect(leftovers(dir), point).toEqual([]);
      // the backup (if one was finished) is kept; a swapped-in new file is kept in the work dir
      expect(existsSync(join(rb.workDir!, ROLLED_BACK_NEW)), `${point}: ${ROLLED_BACK_NEW} kept`).toBe(PAST_SWAP.includes(point));
    }
    // and a whole fresh cutover then works
    const again = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json.outcome).toBe("completed");
    expect(sha256(again.json.archive.path)).toBe(orig);
    expect(oldOrNew(db, orig)).toBe("new");
  }

  it("killed while the proof worker checks the tables copied ahead (the build in WAL mode), --resume --apply rebuilds and finishes", async () => {
    const { dir, db, orig } = await sampleIn(20); // the first table copied ahead is the point: few rows do
    // Forced at any size: the tables copied inside SQLite are committed into the private build file and proven by a worker.
    const env = { VOX_CUTOVER_PROOF_WORKER_BYTES: "0" };
    // The first import progress is the first table copied ahead and committed, its proof sent to the worker.
    const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "import-progress", undefined, true, env);
    await kill9(child);
    expect(sha256(db)).toBe(orig);
    // The private build file in WAL mode was left with its -wal and -shm; nothing else changed.
    const building = readdirSync(dir).filter((f) => f.includes("vox-cutover-building-"));
    expect(building.some((f) => f.endsWith("-wal"))).toBe(true);
    const r = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.outcome).toBe("completed");
    expect(sha256(r.json.archive.path)).toBe(orig);
    checkNewFile(db, r.json.archive.path);
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("delete");
    expect(leftovers(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes("vox-cutover-building-"))).toEqual([]);
  });

  it("killed while the new file's checks run beside the proof worker (the rows committed, the build out of WAL), --resume --apply rebuilds and finishes", async () => {
    const { dir, db, orig } = await sampleIn(20);
    const env = { VOX_CUTOVER_PROOF_WORKER_BYTES: "0", VOX_CUTOVER_CHECKS_BESIDE_BYTES: "0" };
    const { child } = await pausedAt(["cutover", "--db", db, "--apply"], "import-checks", undefined, true, env);
    await kill9(child);
    expect(sha256(db)).toBe(orig);
    // The private build file, committed and out of WAL, is all that was left; nothing else changed.
    const building = readdirSync(dir).filter((f) => f.includes("vox-cutover-building-"));
    expect(building).toHaveLength(1); // no -wal, no -shm
    const r = await cli(["cutover", "--db", db, "--resume", "--apply", "--json"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.outcome).toBe("completed");
    expect(sha256(r.json.archive.path)).toBe(orig);
    checkNewFile(db, r.json.archive.path);
    expect(leftovers(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes("vox-cutover-building-"))).toEqual([]);
  });

  it("killed at every point before the swap, --rollback --apply restores the original byte-identical; a fresh run works after each", async () => {
    await killAndRollBack(POINTS.slice(1, POINTS.indexOf("swap-archived")));
  });

  it("killed during and after the swap, --rollback --apply restores the original byte-identical and keeps the new file; a fresh run works after each", async () => {
    await killAndRollBack(POINTS.slice(POINTS.indexOf("swap-archived")));
  });
});

/**
 * How long a run blocks at its pause point at most: the test sends its signal, then removes the
 * marker file, which ends the wait at once; the run goes on to the next safe point, where the signal
 * is handled. The bound is a fallback only.
 */
const SIGNAL_PAUSE_MS = "60000";

describe("signals and rehearse", () => {
  it("SIGINT stops at a safe point, records it, releases the lock, exits 130", async () => {
    const { db, orig } = await cutSampleIn(10);
    const marker = join(tmp(), "paused");
    const child = execa(...launch(["cutover", "--db", db, "--apply"]), {
      env: cliEnv({ VOX_CUTOVER_PAUSE_AT: "after:export", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker }),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    rmSync(marker); // the signal is sent: end the pause
    const res = await child;
    expect(res.exitCode).toBe(130);
    expect(res.stderr).toMatch(/Interrupted \(SIGINT\)/);
    expect(res.stderr).toMatch(/--resume/);
    expect(existsSync(lockFileOf(db))).toBe(false);
    expect(sha256(db)).toBe(orig);
    const journal = readFileSync(join(runDir(join(db, "..")), "journal.jsonl"), "utf8");
    expect(journal).toMatch(/"e":"interrupted"/);
    const marker2 = join(tmp(), "paused");
    // forceKillAfterDelay: false — execa otherwise follows a SIGTERM with SIGKILL after 5 s, before a run blocked at its pause point can exit 143.
    const term = execa(...launch(["cutover", "--db", db, "--resume", "--apply"]), {
      env: cliEnv({ VOX_CUTOVER_PAUSE_AT: "after:verify-backup", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker2 }),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      forceKillAfterDelay: false,
    });
    while (!existsSync(marker2)) await new Promise((r) => setTimeout(r, 20));
    term.kill("SIGTERM");
    rmSync(marker2); // the signal is sent: end the pause
    expect((await term).exitCode).toBe(143);
  });

  it("SIGINT during Stage 0 leaves nothing and offers no resume (there is nothing to resume)", async () => {
    const { dir, db } = await cutSampleIn(10);
    const before = snapshotDir(dir);
    const marker = join(tmp(), "paused");
    const child = execa(...launch(["cutover", "--db", db, "--apply"]), {
      env: cliEnv({ VOX_CUTOVER_PAUSE_AT: "after:integrity", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker }),
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    rmSync(marker); // the signal is sent: end the pause
    const res = await child;
    expect(res.exitCode).toBe(130);
    expect(res.stderr).toMatch(/Nothing was written/);
    expect(res.stderr).toMatch(/nothing to resume/);
    expect(res.stderr).not.toMatch(/--resume/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("rehearse runs the whole cutover on a clone; the original stays byte-identical", async () => {
    const { dir, db } = await sampleIn(20);
    const before = snapshotDir(dir);
    const scratch = tmp();
    const r = await cli(["rehearse", "--db", db, "--work-dir", scratch, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.outcome).toBe("completed");
    expect(r.json.after.chain).toBe("current");
    expect(r.json.rehearsal.originalUnchanged).toBe(true);
    expect(r.json.rehearsal.sidecar).toBeTruthy();
    expect(snapshotDir(dir)).toEqual(before);
    expect(r.stderr).toMatch(/The real run would do the same/);
    // one number format: a run over a second reads 5,315 ms, never 5315 ms
    expect(r.stderr).toMatch(/here they took [\d,]+ ms \(resolve \d+ ms/);
    expect(r.stderr).not.toMatch(/\b\d{4,} ms/);
  });

  it("rehearse removes its scratch folder unless --keep (the original stays byte-identical either way)", async () => {
    const { dir, db } = await cutSampleIn(10);
    const before = snapshotDir(dir);
    const t = tmp();
    const r = await cli(["rehearse", "--db", db, "--json"], { env: { TMPDIR: t } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.rehearsal.kept).toBe(false);
    expect(readdirSync(t)).toEqual([]);
    expect(r.stderr + r.stdout).toMatch(/was removed \(--keep keeps it\)/);
    const k = await cli(["rehearse", "--db", db, "--keep", "--json"], { env: { TMPDIR: t } });
    expect(k.exitCode, k.stderr).toBe(0);
    expect(k.json.rehearsal.kept).toBe(true);
    expect(readdirSync(t)).toHaveLength(1);
    expect(existsSync(join(k.json.rehearsal.scratch, "run", "report.md"))).toBe(true);
    expect(snapshotDir(dir)).toEqual(before);
    expect(k.stderr).toMatch(/The original .* was only read and is unchanged\./);
    // Written to while it rehearses, with its size, times and change counter put back (in WAL mode, its -wal
    // checkpointed and emptied): said, never "unchanged".
    expect(sqlite(db, "PRAGMA journal_mode=WAL")).toBe("wal");
    const { child, release } = await pausedAt(["rehearse", "--db", db, "--json"], "after:export", 60_000, true, { TMPDIR: t });
    writeTimesBack(db, "UPDATE conversations SET title = title || '!' WHERE rowid = (SELECT min(rowid) FROM conversations)");
    release();
    const w = await child;
    expect(w.exitCode, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout).rehearsal.originalUnchanged).toBe(false);
    expect(w.stderr).toMatch(/The original .* was only read — but it CHANGED while rehearsing \(another writer\?\): its status-change time moved/);
  });
});

import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cleanEnv, cli, makeVoxDb, sampleInto, sha256, sha3sum, snapshotDir, sqlite, tmp } from "../helpers.js";

function sampleIn(rows = 40): Promise<{ dir: string; db: string; orig: string }> {
  return sampleInto(tmp(), rows);
}

/** Starts `cutover --apply`, waits until it reaches the pause point, and kills it with SIGKILL. */
async function killAt(db: string, point: string, extra: string[] = []): Promise<void> {
  const marker = join(tmp(), "paused");
  const child = execa("node", [BIN, "cutover", "--db", db, "--apply", ...extra], {
    env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: point, VOX_CUTOVER_PAUSE_FILE: marker }),
    extendEnv: false,
    reject: false,
    stdin: "ignore",
  });
  const t0 = Date.now();
  while (!existsSync(marker)) {
    if (Date.now() - t0 > 60_000) throw new Error(`never reached ${point}`);
    if (child.exitCode !== null) throw new Error(`exited before ${point}: ${(await child).stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill("SIGKILL");
  const res = await child;
  expect(res.signal).toBe("SIGKILL");
}

/** The invariant after any kill: the old primary in place (byte-identical) or the finished new one. */
function oldOrNew(db: string, orig: string): "old" | "new" {
  if (sha256(db) === orig) return "old";
  expect(sqlite(db, "SELECT group_concat(version) FROM (SELECT version FROM schema_version ORDER BY 1)")).toBe("59,60,66");
  return "new";
}

function checkNewFile(db: string, archive: string): void {
  expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  for (const t of ["embeddings", "names", "search_document_chunks", "knowledge_nodes", "objects", "package_deps", "news_publish_attempts"]) {
    expect(sha3sum(db, t), t).toBe(sha3sum(archive, t));
  }
  // Whole rows in quarantine: the user's own tables and the ad-hoc schema_version rows (100, 101, 110).
  const whole = Number(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE reason NOT LIKE 'unknown-columns%' AND reason NOT LIKE 'unlisted-key%' AND reason NOT LIKE 'sidecar%' AND reason NOT LIKE 'sequence%'"));
  expect(whole).toBe(Number(sqlite(archive, "SELECT count(*) FROM user_bookmarks")) + Number(sqlite(archive, "SELECT count(*) FROM user_kv")) + 3);
  expect(sqlite(db, "SELECT DISTINCT substr(reason, 1, 21) FROM legacy_quarantine WHERE source_table = 'schema_version'")).toBe("legacy-schema-version");
  expect(Number(sqlite(db, "SELECT count(*) FROM users"))).toBe(Number(sqlite(archive, "SELECT count(*) FROM users")));
}

function runDir(dir: string): string {
  const runs = readdirSync(join(dir, "vox-cutover-runs"));
  return join(dir, "vox-cutover-runs", runs.sort().at(-1)!);
}

describe("cutover", () => {
  it("dry-run prints the plan and its digest and leaves everything byte-identical", async () => {
    const { dir, db } = await sampleIn();
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.mode).toBe("dry-run");
    expect(r.json.planDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(r.json.steps.map((s: any) => s.id)).toEqual(["resolve", "ssot-drift", "disk", "lock", "integrity", "diagnose", "structure", "export", "verify-backup", "build-import", "checks", "primary-unchanged", "swap", "ledger", "sidecar", "telemetry-check", "news"]);
    expect(r.json.steps.find((s: any) => s.id === "swap").kind).toBe("destructive");
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("--apply keeps every row, archives the original byte-identical, writes the reports, and a second apply is a no-op", async () => {
    const { dir, db, orig } = await sampleIn();
    const sideOrig = sha256(join(dir, "vox_training_telemetry.db"));
    const dry = await cli(["cutover", "--db", db, "--json"]);
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
    expect(Number(sqlite(db, "SELECT count(*) FROM publication_attempts WHERE channel = 'legacy_news_publish'"))).toBe(Number(sqlite(db, "SELECT count(*) FROM news_publish_attempts")));
    const rd = runDir(dir);
    expect(JSON.parse(readFileSync(join(rd, "report.json"), "utf8")).archive.path).toBe(j.archive.path);
    expect(readFileSync(join(rd, "report.md"), "utf8")).toMatch(/--rollback --apply/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(`${db}.vox-cutover.lock`)).toBe(false);
    const again = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(again.exitCode).toBe(0);
    expect(again.json.outcome).toBe("already-done");
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
  });

  it("--plan with a stale digest is refused (exit 3)", async () => {
    const { dir, db } = await sampleIn(10);
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--apply", "--plan", "ffffffffffffffff"]);
    expect(r.exitCode).toBe(3);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("not enough disk is refused (exit 3) before anything is written", async () => {
    const { dir, db } = await sampleIn(10);
    const before = snapshotDir(dir);
    const r = await cli(["cutover", "--db", db, "--apply"], { env: { VOX_CUTOVER_FREE_BYTES: "1000" } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Not enough free disk space/);
    expect(snapshotDir(dir)).toEqual(before);
  });

  it("a concurrent second run is refused with the holder's details; a dead holder's lock is stale", async () => {
    const { db, orig } = await sampleIn(10);
    const marker = join(tmp(), "paused");
    const first = execa("node", [BIN, "cutover", "--db", db, "--apply"], { env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: "after:lock", VOX_CUTOVER_PAUSE_FILE: marker }), extendEnv: false, reject: false, stdin: "ignore" });
    while (!existsSync(marker)) {
      if (first.exitCode !== null) throw new Error((await first).stderr);
      await new Promise((r) => setTimeout(r, 25));
    }
    const second = await cli(["cutover", "--db", db, "--apply"]);
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`pid ${first.pid} on .*running \`cutover\``));
    expect(second.stderr).toMatch(/--break-lock/);
    first.kill("SIGKILL");
    await first;
    // the first never got past preflight: nothing to resume, the stale lock is replaced
    const third = await cli(["cutover", "--db", db, "--apply", "--json"]);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.json.steps.find((s: any) => s.id === "lock").summary).toMatch(/stale lock/);
    expect(sha256(third.json.archive.path)).toBe(orig);
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

  it("an unfinished run blocks a fresh one until --resume or --rollback", async () => {
    const { db } = await sampleIn(10);
    await killAt(db, "after:export");
    const r = await cli(["cutover", "--db", db, "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/unfinished cutover/);
    expect(r.stderr).toMatch(/--resume --apply/);
  });
});

describe("kill -9 at every stage, then resume or roll back: nothing lost", () => {
  const AGAIN_AFTER_ROLLBACK = ["export-progress", "swap-archived", "after:telemetry-check"];
  const POINTS = ["after:lock", "export-progress", "after:export", "after:verify-backup", "import-progress", "after:build-import", "after:checks", "after:primary-unchanged", "swap-archived", "after:swap", "after:ledger", "after:sidecar", "after:telemetry-check"];
  it.each(POINTS.map((p) => [p]))("killed at %s → --resume --apply finishes with every row", async (point) => {
    const { dir, db, orig } = await sampleIn(point === "import-progress" ? 400 : 30);
    await killAt(db, point);
    // The primary's name is never empty: the old file (byte-identical) or the finished new one.
    expect(existsSync(db)).toBe(true);
    expect(["old", "new"]).toContain(oldOrNew(db, orig));
    const resumeArgs = point === "after:lock" ? ["--apply"] : ["--resume", "--apply"];
    const r = await cli(["cutover", "--db", db, ...resumeArgs, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(oldOrNew(db, orig)).toBe("new");
    const archive = join(runDir(dir), "archive", "vox.db");
    expect(sha256(archive)).toBe(orig);
    checkNewFile(db, archive);
    expect(sqlite(db, "SELECT count(*) FROM cutover_ledger WHERE command = 'cutover'")).toBe("1");
    expect(readdirSync(dir).filter((f) => f.includes("vox-cutover-new") || f.includes("building"))).toEqual([]);
  });

  it.each(POINTS.filter((p) => p !== "after:lock").map((p) => [p]))("killed at %s → --rollback --apply restores the original byte-identical", async (point) => {
    const { dir, db, orig } = await sampleIn(point === "import-progress" ? 400 : 30);
    const side = join(dir, "vox_training_telemetry.db");
    const sideOrig = sha256(side);
    await killAt(db, point);
    expect(existsSync(db)).toBe(true);
    expect(["old", "new"]).toContain(oldOrNew(db, orig));
    const r = await cli(["cutover", "--db", db, "--rollback", "--apply", "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sha256(db)).toBe(orig);
    expect(sha256(side)).toBe(sideOrig);
    expect(readdirSync(dir).filter((f) => f.includes("vox-cutover-new") || f.includes("building") || f.endsWith(".lock"))).toEqual([]);
    // the backup (if one was finished) is kept; a swapped-in new file is kept in the work dir
    if (["after:swap", "after:ledger", "after:sidecar", "after:telemetry-check"].includes(point)) expect(existsSync(join(runDir(dir), "rolled-back-new.db"))).toBe(true);
    // and a fresh cutover then works (a whole cutover: checked after a rollback from before, during and after the swap)
    if (AGAIN_AFTER_ROLLBACK.includes(point)) {
      const again = await cli(["cutover", "--db", db, "--apply"]);
      expect(again.exitCode, again.stderr).toBe(0);
    }
  });
});

/**
 * How long a run blocks at its pause point before going on to the next safe point, where a signal
 * sent meanwhile is handled: longer than the test can take to send it on a loaded machine.
 */
const SIGNAL_PAUSE_MS = "5000";

describe("signals and rehearse", () => {
  it("SIGINT stops at a safe point, records it, releases the lock, exits 130", async () => {
    const { db, orig } = await sampleIn(10);
    const marker = join(tmp(), "paused");
    const child = execa("node", [BIN, "cutover", "--db", db, "--apply"], { env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: "after:export", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker }), extendEnv: false, reject: false, stdin: "ignore" });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const res = await child;
    expect(res.exitCode).toBe(130);
    expect(res.stderr).toMatch(/Interrupted \(SIGINT\)/);
    expect(res.stderr).toMatch(/--resume/);
    expect(existsSync(`${db}.vox-cutover.lock`)).toBe(false);
    expect(sha256(db)).toBe(orig);
    const journal = readFileSync(join(runDir(join(db, "..")), "journal.jsonl"), "utf8");
    expect(journal).toMatch(/"e":"interrupted"/);
    const marker2 = join(tmp(), "paused");
    // forceKillAfterDelay: false — execa otherwise follows a SIGTERM with SIGKILL after 5 s, before a run blocked at its pause point can exit 143.
    const term = execa("node", [BIN, "cutover", "--db", db, "--resume", "--apply"], { env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: "after:verify-backup", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker2 }), extendEnv: false, reject: false, stdin: "ignore", forceKillAfterDelay: false });
    while (!existsSync(marker2)) await new Promise((r) => setTimeout(r, 20));
    term.kill("SIGTERM");
    expect((await term).exitCode).toBe(143);
  });

  it("SIGINT during Stage 0 leaves nothing and offers no resume (there is nothing to resume)", async () => {
    const { dir, db } = await sampleIn(10);
    const before = snapshotDir(dir);
    const marker = join(tmp(), "paused");
    const child = execa("node", [BIN, "cutover", "--db", db, "--apply"], { env: cleanEnv({ VOX_CUTOVER_PAUSE_AT: "after:integrity", VOX_CUTOVER_PAUSE_MS: SIGNAL_PAUSE_MS, VOX_CUTOVER_PAUSE_FILE: marker }), extendEnv: false, reject: false, stdin: "ignore" });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
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
  });

  it("rehearse removes its scratch folder unless --keep (the original stays byte-identical either way)", async () => {
    const { dir, db } = await sampleIn(10);
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
  });
});

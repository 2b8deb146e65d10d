/**
 * The target schema of a run: the bundled baseline (vox 66, `schema/`) or the operator's own vox
 * (`--target-schema FILE|vox`): a database freshly created by vox, whose `schema_version` is the
 * baseline integer and whose `sqlite_master` DDL builds the new file.
 *
 * The CLI resolves `--target-schema` once and passes the template's path to everything below it
 * (engine, worker threads) through `VOX_CUTOVER_TARGET_SCHEMA`, so every step sees the same target.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import Database from "libsql";
import { allRows, openReadOnly } from "../db/local.js";
import { probeFile } from "../db/probe.js";
import { quoteIdent } from "../db/value.js";
import { failed, refused, usage } from "../errors.js";
import { loadPolicy, type BaselinePolicy } from "./contract.js";
import { readFacts, type SchemaFacts } from "./facts.js";
import { ifNotExists } from "./ddl.js";
import { shadowTableNames } from "../db/catalog.js";
import { baselineSql, keccakDigestHex, loadManifest, type Manifest } from "./manifest.js";
import { OWN_FRAGMENT } from "./own.js";
import { chosenTarget, setTarget, type ChosenTarget } from "./chosen.js";

export type TargetOrigin =
  | { kind: "bundled"; label: string }
  | { kind: "file"; path: string; label: string }
  | { kind: "vox"; path: string; label: string; voxVersion: string | null };

/** Facts of a target's vox part, built by applying its SQL to a private in-memory database. */
export function factsOfSql(sql: string): SchemaFacts {
  const db = new Database(":memory:");
  try {
    db.defaultSafeIntegers(true);
    db.exec(sql);
    return readFacts(db);
  } finally {
    db.close();
  }
}

/** The DDL of a vox template file, in creation order, idempotent, plus its seed rows. */
function templateSql(path: string): { sql: string; version: number } {
  const db = openReadOnly(path);
  try {
    const hasVersion = allRows(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").length > 0;
    const max = hasVersion ? allRows(db, "SELECT MAX(version) AS m FROM schema_version")[0]?.m : null;
    if (typeof max !== "bigint") {
      throw refused({
        what: `The target schema ${path} has no schema_version row, so it names no baseline.`,
        untouched: "Nothing was read from or written to the database.",
        next: "Create the template with your vox (VOX_DB_PATH=FILE vox codex verify) and pass that file, or use --target-schema vox.",
      });
    }
    const shadow = shadowTableNames(db);
    const master = allRows(db, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").filter(
      (r) => !String(r.name).startsWith("sqlite_") && !shadow.has(String(r.name)),
    );
    const stmts = master.map((r) => ifNotExists(String(r.sql).trim()) + ";");
    // Seed rows: whatever the fresh template holds besides schema_version, as exact SQL literals.
    for (const r of master.filter((m) => m.type === "table" && m.name !== "schema_version")) {
      const name = String(r.name);
      if (/^\s*CREATE\s+VIRTUAL/i.test(String(r.sql))) continue;
      const cols = allRows(db, "SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0", [name]).map((c) => String(c.name));
      if (!cols.length) continue;
      const lit = cols.map((c) => `quote(${quoteIdent(c)})`).join(" || ', ' || ");
      for (const row of allRows(db, `SELECT ${lit} AS v FROM ${quoteIdent(name)}`)) {
        stmts.push(`INSERT OR IGNORE INTO ${quoteIdent(name)} (${cols.map(quoteIdent).join(", ")}) VALUES (${String(row.v)});`);
      }
    }
    return { sql: stmts.join("\n"), version: Number(max) };
  } finally {
    db.close();
  }
}

export interface TargetSchema {
  origin: TargetOrigin;
  manifest: Manifest;
  policy: BaselinePolicy;
}

/** The target a template file names: integer from its schema_version, history from the bundled policy. */
export function templateTarget(path: string, origin: TargetOrigin): TargetSchema {
  const p = probeFile(path);
  if (p.state !== "ok") {
    throw usage({
      what: `--target-schema ${path} is not a database file (${p.state}).`,
      untouched: "Nothing was read or changed.",
      next: "Pass a database freshly created by your vox (VOX_DB_PATH=FILE vox codex verify), or --target-schema vox.",
    });
  }
  const { sql, version } = templateSql(path);
  const bundled = loadManifest();
  const bundledPolicy = loadPolicy();
  const own = bundled.fragments.find((f) => f.domain === OWN_FRAGMENT.domain);
  const fragments = [{ domain: "template", file: path, sql }, ...(own ? [own] : [])];
  const digest = keccakDigestHex(baselineSql(fragments));
  // Earlier baselines: the bundled history and the bundled baseline, when below the template's.
  const history = [...new Set([...bundledPolicy.history, bundled.baselineVersion])].filter((h) => h < version).sort((a, b) => a - b);
  return {
    origin,
    manifest: { path, baselineVersion: version, fragments, foldSteps: [] },
    policy: { path, baselineInteger: version, digestHex: digest, history, digestSource: `keccak-256 of the DDL of ${path}` },
  };
}

/** Runs the operator's vox in a scratch folder to create a fresh database at vox's baseline. */
export async function templateFromVox(opts: { parent?: string } = {}): Promise<{ path: string; voxVersion: string | null }> {
  const { execa } = await import("execa");
  // Inside a caller's own scratch folder (the caller removes it), or a temp folder removed at exit.
  const dir = mkdtempSync(join(opts.parent ?? tmpdir(), "vox-cutover-template-"));
  if (!opts.parent) {
    const mine = dir;
    process.once("exit", () => rmSync(mine, { recursive: true, force: true }));
  }
  const path = join(dir, "vox.db");
  const env: Record<string, string | undefined> = { ...process.env, VOX_DB_PATH: path, VOX_DATA_DIR: dir };
  delete env.VOX_DB_URL;
  delete env.VOX_DB_TOKEN;
  let voxVersion: string | null = null;
  try {
    const v = await execa("vox", ["--version"], { cwd: dir, env, reject: false, timeout: 30_000 });
    if (v.exitCode === 0) voxVersion = v.stdout.trim().split("\n")[0] ?? null;
    await execa("vox", ["codex", "verify"], { cwd: dir, env, timeout: 120_000 });
  } catch (e) {
    // No vox at all is a precondition not met (3, as not enough disk is); a vox that ran and failed, a failure (1).
    const missing = (e as { code?: string }).code === "ENOENT";
    throw (missing ? refused : failed)({
      what: missing
        ? "--target-schema vox: there is no `vox` on PATH."
        : `--target-schema vox: \`vox codex verify\` failed: ${(e as { shortMessage?: string }).shortMessage ?? String(e)}.`,
      untouched: "Nothing was read from or written to the database.",
      next: "Install vox (or put it on PATH), or create the template yourself with VOX_DB_PATH=FILE vox codex verify and pass --target-schema FILE.",
    });
  }
  if (probeFile(path).state !== "ok") {
    throw failed({
      what: `--target-schema vox: vox ran but left no database at ${path}.`,
      untouched: "Nothing was read from or written to the database.",
      next: "Create the template yourself with VOX_DB_PATH=FILE vox codex verify and pass --target-schema FILE.",
    });
  }
  return { path, voxVersion };
}

/**
 * An executable file named `name` in one of PATH's folders (with PATHEXT's endings on Windows), the
 * way a shell finds a command. Only stats: no process is started.
 */
function onPath(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const win = process.platform === "win32";
  const exts = win ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)] : [""];
  for (const dir of (env.PATH ?? env.Path ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      try {
        const st = statSync(join(dir, name + ext));
        if (st.isFile() && (win || (st.mode & 0o111) !== 0)) return true;
      } catch {
        /* not there */
      }
    }
  }
  return false;
}

/**
 * Whether a `vox` is on PATH (the wizard offers the operator's vox then). Without one on PATH no
 * process is started (and execa is not loaded): the wizard asks this as it opens, before its first
 * screen's answer, and the spawn cost ~0.05–0.1 s of it for nothing.
 */
export async function voxOnPath(): Promise<boolean> {
  if (!onPath("vox")) return false;
  const { execa } = await import("execa");
  const r = await execa("vox", ["--version"], { reject: false, timeout: 10_000 }).catch(() => null);
  return !!r && r.exitCode === 0;
}

/** The CLI's `--target-schema FILE|vox`: resolved once, then in force for this process (`setTarget`). */
export async function applyTargetOption(value: unknown): Promise<void> {
  if (value === undefined || value === null || value === false) return;
  if (typeof value !== "string" || value === "") {
    throw usage({ what: "--target-schema needs a FILE or `vox`.", untouched: "Nothing was read or changed.", next: "Pass --target-schema FILE (a database created by your vox) or --target-schema vox." });
  }
  if (value === "vox") {
    const t = await templateFromVox();
    setTarget({ kind: "vox", path: t.path, voxVersion: t.voxVersion });
  } else {
    templateTarget(value, { kind: "file", path: value, label: value }); // validates now: a bad file is a usage error before anything runs
    setTarget({ kind: "file", path: value });
  }
}

/** The target: the chosen template (the one in force by default), else the bundled baseline. */
export function currentTarget(t: ChosenTarget | null = chosenTarget()): TargetSchema {
  if (t) {
    const origin: TargetOrigin =
      t.kind === "vox"
        ? { kind: "vox", path: t.path, label: `the operator's vox${t.voxVersion ? ` (${t.voxVersion})` : ""}`, voxVersion: t.voxVersion ?? null }
        : { kind: "file", path: t.path, label: `the template ${t.path}` };
    return templateTarget(t.path, origin);
  }
  const manifest = loadManifest();
  return { origin: { kind: "bundled", label: `bundled vox baseline ${manifest.baselineVersion}` }, manifest, policy: loadPolicy() };
}

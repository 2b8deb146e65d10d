import { existsSync, statSync } from "node:fs";
import { SIDECAR_NAME, sidecarBeside } from "../layout.js";
import { VoxError } from "../errors.js";
import { quoteIdent, type Row } from "../db/value.js";
import type { BaselinePolicy } from "../schema/contract.js";
import { OWN_TABLES, readFacts, type SchemaFacts } from "../schema/facts.js";
import { compareFacts, failingCount, isFailing, rememberTargetFingerprint, type StructureComparison } from "../schema/compare.js";
import { baselineSql, keccakDigestHex, type Manifest } from "../schema/manifest.js";
import { currentTarget, factsOfSql, type TargetOrigin, type TargetSchema } from "../schema/target.js";
import { baselineCatalog, countsIn, countStatements, readCatalog, type TableInfo } from "../db/catalog.js";
import { classifyChain, displayVersion, jsonInt, type Chain, type ChainEvidence, type Classification } from "../db/classify.js";
import { contentVersion, probeFile } from "../db/probe.js";
import { listObjects, predictObjects, type ObjectsCarried } from "../db/objects.js";
import { openReader, type DbReader } from "../db/reader.js";
import type { ResolvedDb } from "../db/resolve.js";
import { shellQuote } from "../util/shell.js";
import { derivedFor } from "../util/derived.js";
import type { DerivedBaseline } from "../schema/derive.js";

export interface TableCount {
  name: string;
  rows: bigint;
  inBaseline: boolean;
}

export interface Diagnosis {
  resolved: ResolvedDb;
  classification: Classification;
  chain: Chain;
  versions: unknown[];
  baseline: { version: number; digest: string; history: number[]; origin: string };
  tables: TableCount[];
  virtualTables: string[];
  unknownTables: string[];
  missingTables: string[];
  /** Baseline tables present but lacking baseline columns (what a fold would add). */
  missingColumns: { table: string; columns: string[] }[];
  /** Columns present in the database that the baseline does not have. */
  unknownColumns: { table: string; columns: string[] }[];
  totalRows: bigint;
  /** sqlite_sequence entries: counted apart from table rows, everywhere. */
  sequences: bigint;
  sizeBytes: number | null;
  walBytes: number | null;
  changeCounter: number | null;
  /** The content version (src/db/probe.ts contentVersion): changes with every committed write, WAL included. */
  contentVersion: string | null;
  sidecar: { path: string; exists: boolean; sizeBytes: number | null } | null;
  explanation: string;
  /** The explanation without the class name that heads it for the CLI (the wizard's words). */
  sentence: string;
  next: string[];
  /** The file's structure against the target's, part by part (local files that could be read). */
  structure: StructureComparison | null;
  /**
   * The file's own indexes, triggers and views that are not the target's, and what a rebuild does
   * with each (carried when it compiles against the target; a fold keeps them all in place). Null: not read.
   */
  operatorObjects: { carried: Omit<ObjectsCarried["carried"][number], "sql">[]; notCarried: ObjectsCarried["notCarried"] } | null;
  /** Set for not-a-database: the error to report. */
  error?: VoxError;
}

export interface BaselineContext {
  manifest: Manifest;
  policy: BaselinePolicy;
  sql: string;
  digest: string;
  catalog: TableInfo[];
  /** The target's vox structure (our own tables left out), to compare files with. */
  facts: SchemaFacts;
  /** Where the target comes from: the bundled baseline or the operator's vox. */
  origin: TargetOrigin;
}

const factsCache = new Map<string, SchemaFacts>();

/**
 * The target in force (bundled vox baseline, or `--target-schema`), with its SQL, digest and structure.
 * For the bundled baseline's exact SQL these come from schema/derived.json (computed from the same
 * text by `npm run schema:derive`, keyed by its SHA-256); any other SQL is derived here.
 */
export function loadBaselineContext(target: TargetSchema = currentTarget()): BaselineContext {
  const sql = baselineSql(target.manifest.fragments);
  const known = derivedFor<DerivedBaseline>("baseline", sql);
  const digest = known?.digest ?? keccakDigestHex(sql);
  let facts = factsCache.get(digest) ?? known?.facts;
  if (!facts) facts = factsOfSql(sql);
  else if (facts === known?.facts && known.fingerprint) rememberTargetFingerprint(facts, known.fingerprint);
  factsCache.set(digest, facts);
  return { manifest: target.manifest, policy: target.policy, sql, digest, catalog: baselineCatalog(sql), facts, origin: target.origin };
}

async function schemaEvidence(reader: DbReader): Promise<Pick<ChainEvidence, "schemaTable" | "versions">> {
  const cols = await reader.rows("SELECT name, type, pk FROM pragma_table_info('schema_version')");
  if (cols.length === 0) return { schemaTable: "absent", versions: [] };
  const names = cols.map((c) => String(c.name)).sort();
  const version = cols.find((c) => c.name === "version");
  const ok =
    names.length === 2 &&
    names[0] === "applied_at" &&
    names[1] === "version" &&
    version !== undefined &&
    String(version.type).toUpperCase() === "INTEGER" &&
    Number(version.pk) === 1;
  const versionCol = version ? "version" : quoteIdent(String(cols[0]!.name));
  const rows = await reader.rows(`SELECT ${versionCol} AS v FROM schema_version ORDER BY 1`);
  return { schemaTable: ok ? "ok" : "other-shape", versions: rows.map((r) => r.v) };
}

export function diagnose(resolved: ResolvedDb, ctx: BaselineContext = loadBaselineContext()): Promise<Diagnosis> {
  return examine(resolved, ctx, "full");
}

/**
 * The chain and the structure against the target (what the cutover's check of its new file asks):
 * the same reading as `diagnose`, without counting rows (every table's rows are 0) or predicting the
 * operator's objects (null).
 */
export function diagnoseStructure(resolved: ResolvedDb, ctx: BaselineContext = loadBaselineContext()): Promise<Diagnosis> {
  return examine(resolved, ctx, "structure");
}

/**
 * The chain and its classification, as a Diagnosis (what export-legacy records in its backup's
 * header; a finished cutover or rollback reports the file's chain by `chainOf`): the same reading and
 * rule as `diagnose`, without counting rows (every table's rows are 0) or comparing the structure and
 * the operator's objects (null).
 */
export function diagnoseChain(resolved: ResolvedDb, ctx: BaselineContext = loadBaselineContext()): Promise<Diagnosis> {
  return examine(resolved, ctx, "chain");
}

export async function chainOf(resolved: ResolvedDb, ctx: BaselineContext = loadBaselineContext()): Promise<Chain> {
  return (await diagnoseChain(resolved, ctx)).chain;
}

/**
 * How much is read: "chain" the tables, columns and versions the chain is read from (no row counts,
 * structure or objects); "structure" that and the structure; "full" also every table's rows and the
 * operator's objects.
 */
type Depth = "chain" | "structure" | "full";

async function examine(resolved: ResolvedDb, ctx: BaselineContext, depth: Depth): Promise<Diagnosis> {
  const base = {
    resolved,
    baseline: { version: ctx.manifest.baselineVersion, digest: ctx.digest, history: ctx.policy.history, origin: ctx.origin.label },
    tables: [] as TableCount[],
    virtualTables: [] as string[],
    unknownTables: [] as string[],
    missingTables: [] as string[],
    missingColumns: [] as { table: string; columns: string[] }[],
    unknownColumns: [] as { table: string; columns: string[] }[],
    totalRows: 0n,
    sizeBytes: null as number | null,
    walBytes: null as number | null,
    changeCounter: null as number | null,
    contentVersion: null as string | null,
    sidecar: null as Diagnosis["sidecar"],
    versions: [] as unknown[],
    structure: null as StructureComparison | null,
    sequences: 0n,
    operatorObjects: null as Diagnosis["operatorObjects"],
  };
  let evidence: ChainEvidence;
  let error: VoxError | undefined;
  if (resolved.kind === "file") {
    const path = resolved.path!;
    const sidecarPath = sidecarBeside(path);
    base.sidecar = { path: sidecarPath, exists: existsSync(sidecarPath), sizeBytes: existsSync(sidecarPath) ? statSync(sidecarPath).size : null };
    const probe = probeFile(path);
    if (probe.state === "missing") {
      evidence = { exists: false, schemaTable: "absent", versions: [] };
    } else if (probe.state === "empty-file") {
      base.sizeBytes = 0;
      evidence = { exists: true, schemaTable: "absent", versions: [] };
    } else if (probe.state !== "ok") {
      try {
        openReader(resolved).close();
      } catch (e) {
        if (e instanceof VoxError) error = e;
      }
      evidence = { exists: true, notADatabase: error?.what ?? probe.state, schemaTable: "absent", versions: [] };
    } else {
      base.sizeBytes = probe.header.size;
      base.changeCounter = probe.header.changeCounter;
      base.walBytes = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : null;
      base.contentVersion = contentVersion(path);
      evidence = await readEvidence(resolved, ctx, base, depth).catch((e) => {
        if (e instanceof VoxError && e.details?.chain === "not-a-database") {
          error = e;
          return { exists: true, notADatabase: e.what, schemaTable: "absent" as const, versions: [] };
        }
        throw e;
      });
    }
  } else {
    evidence = await readEvidence(resolved, ctx, base, depth);
  }
  base.versions = evidence.versions;
  const classification = classifyChain(evidence, ctx.manifest.baselineVersion, ctx.policy.history);
  const d: Diagnosis = { ...base, classification, chain: classification.chain, explanation: "", sentence: "", next: [], error, structure: base.structure };
  const { label, explanation, next } = explain(d);
  d.sentence = explanation;
  d.explanation = label ? `${label}: ${explanation}` : explanation;
  d.next = next;
  return d;
}

async function readEvidence(
  resolved: ResolvedDb,
  ctx: BaselineContext,
  base: Pick<
    Diagnosis,
    | "tables"
    | "virtualTables"
    | "unknownTables"
    | "missingTables"
    | "missingColumns"
    | "unknownColumns"
    | "totalRows"
    | "sequences"
    | "structure"
    | "operatorObjects"
  >,
  depth: Depth,
): Promise<ChainEvidence> {
  const reader = openReader(resolved);
  try {
    const catalog = await readCatalog(reader);
    const baseByName = new Map(ctx.catalog.map((t) => [t.name, t]));
    // Table rows are counted the same way everywhere (export, verify-backup, import, drill, reports):
    // every table whose rows are carried; sqlite_sequence entries apart (`sequences`).
    const carried = catalog.filter((t) => t.carry === "rows");
    const counts = new Map<string, bigint>();
    if (depth === "full") {
      const rows: Row[] = [];
      for (const sql of countStatements(carried)) rows.push(...(await reader.rows(sql)));
      countsIn(carried.length, rows).forEach((n, i) => counts.set(carried[i]!.name, n));
    }
    for (const t of catalog) {
      if (t.virtual) base.virtualTables.push(t.name);
      if (t.carry !== "rows") continue;
      const rows = counts.get(t.name) ?? 0n;
      base.tables.push({ name: t.name, rows, inBaseline: baseByName.has(t.name) });
      base.totalRows += rows;
      const bt = baseByName.get(t.name);
      if (!bt) {
        base.unknownTables.push(t.name);
        continue;
      }
      const have = new Set(t.columns.map((c) => c.name));
      const want = new Set(bt.columns.map((c) => c.name));
      const missing = bt.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
      const extra = t.columns.filter((c) => !want.has(c.name)).map((c) => c.name);
      if (missing.length) base.missingColumns.push({ table: t.name, columns: missing });
      if (extra.length) base.unknownColumns.push({ table: t.name, columns: extra });
    }
    const present = new Set(catalog.map((t) => t.name));
    if (catalog.length > 0) base.missingTables = ctx.catalog.filter((t) => !present.has(t.name) && !OWN_TABLES.includes(t.name)).map((t) => t.name);
    if ((await reader.rows("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).length) {
      base.sequences = (await reader.rows("SELECT count(*) AS n FROM sqlite_sequence"))[0]!.n as bigint;
    }
    if (reader.local && catalog.length > 0 && depth !== "chain") {
      base.structure = compareFacts(readFacts(reader.local), ctx.facts);
      if (depth === "full") {
        const o = predictObjects(ctx.sql, listObjects(reader.local));
        base.operatorObjects = { carried: o.carried.map(({ type, name, table }) => ({ type, name, table })), notCarried: o.notCarried };
      }
    }
    const ev = await schemaEvidence(reader);
    // `ahead` needs every table and column of the baseline (a newer vox wrote it); otherwise it is legacy.
    const holdsBaseline = catalog.length > 0 && base.missingTables.length === 0 && base.missingColumns.length === 0;
    return { exists: true, ...ev, holdsBaseline };
  } finally {
    reader.close();
  }
}

/** The chain in words; `label`: the contract's class name for a chain the cutover must rebuild (it heads `explanation` for the CLI). */
function explain(d: Diagnosis): { label?: "LegacySchemaChain"; explanation: string; next: string[] } {
  const B = d.baseline.version;
  const where = d.resolved.kind === "file" ? `--db ${shellQuote(d.resolved.path!)}` : "";
  const unknown = d.classification.unknownVersions;
  switch (d.chain) {
    case "missing":
      return {
        explanation: `There is no database at ${d.resolved.display}. A normal open (or \`vox-cutover migrate --apply\`) creates it and applies baseline ${B}; there is nothing to cut over.`,
        next: [`vox-cutover migrate ${where} --apply`.replace(/\s+/g, " ")],
      };
    case "empty":
      return {
        explanation: `The file is a SQLite database with no schema_version rows${d.tables.length ? ` (it has ${d.tables.length} table(s))` : ""}. ${d.tables.length ? `The baseline ${B} is applied in a copy beside it after a verified backup, then swapped in (the original is archived).` : `The baseline ${B} can be applied in place (there is no row to lose).`}`,
        next: [`vox-cutover migrate ${where}`.trim(), `vox-cutover migrate ${where} --apply`.replace(/\s+/g, " ")],
      };
    case "current":
      if (d.structure && !d.structure.equal) {
        const n = failingCount(d.structure);
        return {
          explanation: `The database says it is on baseline ${B}, but its structure differs from ${d.baseline.origin} in ${n} part(s) (vox's own fold re-runs CREATE … IF NOT EXISTS and never adds columns, so files upgraded through releases drift). It is repaired after a verified backup, in a copy beside the file that is then swapped in (the original is archived): what is missing is added, nothing is dropped (a vox trigger stored with another text is replaced by the target's).`,
          next: [`vox-cutover migrate ${where}`.trim(), `vox-cutover migrate ${where} --apply`.replace(/\s+/g, " ")],
        };
      }
      return {
        explanation: `The database is on the canonical baseline ${B} and its structure matches ${d.baseline.origin}: nothing to migrate.${d.sidecar?.exists ? ` A training-telemetry sidecar (${SIDECAR_NAME}) still sits beside it: Stage 2 (\`vox-cutover sidecar\`) can merge or archive it.` : ""}`,
        next: d.sidecar?.exists ? [`vox-cutover sidecar ${where}`.trim(), `vox-cutover verify ${where}`.trim()] : [`vox-cutover verify ${where}`.trim()],
      };
    case "behind":
      return {
        explanation: `The database is on baseline ${String(d.classification.maxVersion)}, an earlier baseline (in baseline_history), below the current ${B}. It can be folded: a verified backup first, then, in a copy beside the file that is swapped in afterwards (the original is archived), the idempotent baseline DDL${d.missingColumns.length ? ` (adding ${d.missingColumns.reduce((n, m) => n + m.columns.length, 0)} column(s))` : ""} and version-gated steps.`,
        next: [`vox-cutover migrate ${where}`.trim(), `vox-cutover migrate ${where} --apply`.replace(/\s+/g, " ")],
      };
    case "ahead":
      return {
        label: "LegacySchemaChain",
        explanation: `The database is on version ${String(d.classification.maxVersion)}, above the target baseline ${B} (${d.baseline.origin}): a newer vox wrote it. Do not migrate it against this baseline; take the target from the vox that wrote it.`,
        next: [
          `vox-cutover diagnose ${where} --target-schema vox`.replace(/\s+/g, " "),
          `vox-cutover cutover ${where} --target-schema vox`.replace(/\s+/g, " "),
        ],
      };
    case "legacy":
      return {
        label: "LegacySchemaChain",
        explanation: `${d.classification.rule}${unknown.length ? ` (unknown: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? `, … ${unknown.length - 8} more` : ""})` : ""}. It cannot be folded in place; Stage 1 exports every row to a verified backup, builds a new file on baseline ${B} beside it, imports the rows (anything that does not fit goes to legacy_quarantine) and swaps the files, keeping the old one in an archive.`,
        next: [`vox-cutover rehearse ${where}`.trim(), `vox-cutover cutover ${where}`.trim(), `vox-cutover cutover ${where} --apply`.replace(/\s+/g, " ")],
      };
    case "not-a-database":
      return {
        explanation: `${d.resolved.display} is not a readable SQLite database: ${d.classification.rule}. It was left untouched.`,
        next: ["check the path; if this is your only copy, restore it from a backup"],
      };
  }
}

export function diagnosisJson(d: Diagnosis): Record<string, unknown> {
  return {
    chain: d.chain,
    rule: d.classification.rule,
    maxVersion: jsonInt(d.classification.maxVersion),
    versions: d.versions.map((v) => (typeof v === "bigint" ? jsonInt(v) : displayVersion(v))),
    unknownVersions: d.classification.unknownVersions,
    baseline: d.baseline,
    tables: d.tables.map((t) => ({ name: t.name, rows: jsonInt(t.rows), inBaseline: t.inBaseline })),
    tableCount: d.tables.length,
    totalRows: jsonInt(d.totalRows),
    sequences: jsonInt(d.sequences),
    virtualTables: d.virtualTables,
    unknownTables: d.unknownTables,
    missingTables: d.missingTables,
    missingColumns: d.missingColumns,
    unknownColumns: d.unknownColumns,
    sizeBytes: d.sizeBytes,
    walBytes: d.walBytes,
    sidecar: d.sidecar,
    structure: d.structure ? structureJson(d.structure) : null,
    operatorObjects: d.operatorObjects,
    explanation: d.explanation,
    next: d.next,
  };
}

/** The structure verdict for `--json`: equal or not, fingerprints, and each difference by table. */
function structureJson(s: StructureComparison): Record<string, unknown> {
  return {
    equal: s.equal,
    fingerprint: s.fingerprint,
    targetFingerprint: s.targetFingerprint,
    differences: s.diffs.filter(isFailing).map((d) => ({
      table: d.table,
      ...(d.missing ? { missing: true } : {}),
      ...(d.missingColumns.length ? { missingColumns: d.missingColumns } : {}),
      ...(d.differentColumns.length ? { differentColumns: d.differentColumns } : {}),
      ...(d.missingIndexes.length ? { missingIndexes: d.missingIndexes } : {}),
      ...(d.differentIndexes.length ? { differentIndexes: d.differentIndexes } : {}),
      ...(d.missingUnique.length ? { missingUnique: d.missingUnique } : {}),
      ...(d.missingForeignKeys.length ? { missingForeignKeys: d.missingForeignKeys } : {}),
      ...(d.shape.length ? { shape: d.shape } : {}),
    })),
    missingFts: s.missingFts,
    ...(s.missingTriggers.length ? { missingTriggers: s.missingTriggers } : {}),
    ...(s.differentTriggers.length ? { differentTriggers: s.differentTriggers } : {}),
    kept: {
      tables: s.extraTables,
      columns: s.diffs.filter((d) => d.extraColumns.length).map((d) => ({ table: d.table, columns: d.extraColumns })),
    },
  };
}

/** One line per structural difference, for people. */
export function structureLines(s: StructureComparison): string[] {
  const out: string[] = [];
  for (const d of s.diffs.filter(isFailing)) {
    if (d.missing) {
      out.push(`${d.table}: table missing`);
      continue;
    }
    const parts: string[] = [];
    if (d.missingColumns.length) parts.push(`columns missing: ${d.missingColumns.join(", ")}`);
    if (d.differentColumns.length) parts.push(`columns defined differently: ${d.differentColumns.join("; ")}`);
    if (d.missingIndexes.length) parts.push(`indexes missing: ${d.missingIndexes.join(", ")}`);
    if (d.differentIndexes.length) parts.push(`indexes defined differently: ${d.differentIndexes.join(", ")}`);
    if (d.missingUnique.length) parts.push(`unique sets missing: ${d.missingUnique.map((u) => `(${u.join(", ")})`).join(", ")}`);
    if (d.missingForeignKeys.length) parts.push(`foreign keys missing: ${d.missingForeignKeys.map((f) => `${f.from} → ${f.table}(${f.to})`).join(", ")}`);
    if (d.shape.length) parts.push(d.shape.join(", "));
    out.push(`${d.table}: ${parts.join(" · ")}`);
  }
  for (const f of s.missingFts) out.push(`${f}: FTS5 table missing`);
  for (const t of s.missingTriggers) out.push(`${t}: trigger missing`);
  for (const t of s.differentTriggers) out.push(`${t}: trigger text is not the target's`);
  return out;
}

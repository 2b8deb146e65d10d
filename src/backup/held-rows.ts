/**
 * Whether an append-only table (import-plan.ts APPEND_ONLY) holds a row already: every value equal,
 * storage class too (`IS` alone takes 3 and 3.0 for one value). One prepared statement per table,
 * reused. A value this check cannot bind as itself (TEXT that is not UTF-8, a value read in slices)
 * is never taken for held: the row is then kept in legacy_quarantine, nothing dropped.
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { changedInUtf16, quoteIdent, RawText, type SqlValue, type TextEncoding } from "../db/value.js";
import { hasBig } from "./tables.js";
import { APPEND_ONLY, QUARANTINE, type Plan } from "./import-plan.js";

/**
 * Replace semantics: the targets an import clears — every table that loads but the product's own
 * records (import-plan.ts APPEND_ONLY), whose rows a backup adds to — and, in `held`, each of those
 * the import counts by (not legacy_quarantine: the import itself writes to it) with its rows before the load.
 */
export function clearPlan(db: LibsqlDatabase, plans: ReadonlyMap<string, Plan>, held: Map<string, number>): Set<string> {
  const toClear = new Set<string>();
  for (const p of plans.values()) {
    if (!p.target) continue;
    if (!APPEND_ONLY.has(p.target.name)) toClear.add(p.target.name);
    else if (p.target.name !== QUARANTINE) held.set(p.target.name, Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(p.target.name)}`)[0]!.n));
  }
  return toClear;
}

interface GetStatement {
  get(args: unknown[]): unknown;
}

export class HeldRows {
  private readonly statements = new Map<string, GetStatement>();
  constructor(
    private readonly db: LibsqlDatabase,
    private readonly encoding: TextEncoding,
  ) {}

  /** `args`: the values the INSERT binds; `values`: the whole backup row (values the target has no column for must be kept: never held). */
  held(p: Plan, args: readonly SqlValue[], values: readonly SqlValue[]): boolean {
    const names = p.insertNames;
    if (!p.target || !names) return false;
    // A value kept in quarantine beside the row (a column the target lacks, a key no `columns` lists) would be lost with it (helper-106 F1).
    if ([...p.unknownCols, ...p.unlistedCols].some((i) => values[i] !== null && values[i] !== undefined)) return false;
    // Not bindable as itself: TEXT that is not UTF-8, a value read in slices, and in a UTF-16 file text SQLite converts as it binds (U+FFFE would match U+FFFD: F2).
    const utf16 = this.encoding !== "UTF-8";
    if (hasBig(args) || args.some((v) => v instanceof RawText || (utf16 && typeof v === "string" && changedInUtf16(v)))) return false;
    let st = this.statements.get(p.target.name);
    if (!st) {
      const where = names.map((n) => `${n} IS ? AND typeof(${n}) = typeof(?)`).join(" AND ");
      st = this.db.prepare(`SELECT 1 AS x FROM ${quoteIdent(p.target.name)} WHERE ${where} LIMIT 1`) as unknown as GetStatement;
      this.statements.set(p.target.name, st);
    }
    return st.get(args.flatMap((v) => [v, v])) !== undefined;
  }
}

/**
 * Whether an append-only table (import-plan.ts APPEND_ONLY) holds a row already: every value equal,
 * storage class too (`IS` alone takes 3 and 3.0 for one value). One prepared statement per table,
 * reused. A value this check cannot bind as itself (TEXT that is not UTF-8, a value read in slices)
 * is never taken for held: the row is then kept in legacy_quarantine, nothing dropped.
 */
import type { LibsqlDatabase } from "../db/local.js";
import { quoteIdent, RawText, type SqlValue } from "../db/value.js";
import type { Plan } from "./import-plan.js";

interface GetStatement {
  get(args: unknown[]): unknown;
}

export class HeldRows {
  private readonly statements = new Map<string, GetStatement>();
  constructor(private readonly db: LibsqlDatabase) {}

  held(p: Plan, args: readonly SqlValue[]): boolean {
    const names = p.insertNames;
    if (!p.target || !names || args.some((v) => v instanceof RawText || (typeof v === "object" && v !== null && !(v instanceof Uint8Array)))) return false;
    let st = this.statements.get(p.target.name);
    if (!st) {
      const where = names.map((n) => `${n} IS ? AND typeof(${n}) = typeof(?)`).join(" AND ");
      st = this.db.prepare(`SELECT 1 AS x FROM ${quoteIdent(p.target.name)} WHERE ${where} LIMIT 1`) as unknown as GetStatement;
      this.statements.set(p.target.name, st);
    }
    return st.get(args.flatMap((v) => [v, v])) !== undefined;
  }
}

import type { Client } from "@libsql/client";
import { allRows, openReadOnly, type LibsqlDatabase } from "./local.js";
import { openRemote, remoteRows } from "./remote.js";
import type { ResolvedDb } from "./resolve.js";
import type { Row, SqlValue } from "./value.js";

/** Read access to a resolved database, local or remote. Never writes. */
export interface DbReader {
  readonly kind: "file" | "remote";
  rows(sql: string, args?: SqlValue[]): Promise<Row[]>;
  close(): void;
  /** The local handle, for bulk work (undefined for remote). */
  readonly local?: LibsqlDatabase;
}

export function openReader(r: ResolvedDb): DbReader {
  if (r.kind === "file") {
    const db = openReadOnly(r.path!);
    return {
      kind: "file",
      local: db,
      rows: async (sql, args) => allRows(db, sql, args),
      close: () => db.close(),
    };
  }
  const client: Client = openRemote(r);
  return {
    kind: "remote",
    rows: (sql, args) => remoteRows(client, r.display, sql, args),
    close: () => client.close(),
  };
}

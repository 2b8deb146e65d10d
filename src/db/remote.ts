import { createRequire } from "node:module";
import type { Client } from "@libsql/client";
import { failed } from "../errors.js";
import { redactText } from "../util/redact.js";
import type { ResolvedDb } from "./resolve.js";
import { normalizeValue, type Row, type SqlValue } from "./value.js";

/** The remote client library, loaded on first use: it costs ~0.25 s of CPU to load, and most runs use a local file. */
function createClient(...args: Parameters<typeof import("@libsql/client").createClient>): Client {
  const require = createRequire(import.meta.url);
  const lib = require("@libsql/client") as typeof import("@libsql/client");
  return lib.createClient(...args);
}

export function openRemote(r: ResolvedDb): Client {
  try {
    return createClient({ url: r.url!, authToken: r.token, intMode: "bigint" });
  } catch (e) {
    throw failed({
      what: `Cannot use the remote database ${r.display}: ${redactText(e instanceof Error ? e.message : String(e))}.`,
      untouched: "Nothing was changed.",
      next: "Check VOX_DB_URL (libsql://, https:// or wss://) and VOX_DB_TOKEN.",
    });
  }
}

export async function remoteRows(client: Client, display: string, sql: string, args: SqlValue[] = []): Promise<Row[]> {
  try {
    const rs = await client.execute({ sql, args: args as never });
    return rs.rows.map((r) => {
      const row: Row = {};
      rs.columns.forEach((c, i) => (row[c] = normalizeValue(r[i])));
      return row;
    });
  } catch (e) {
    throw failed({
      what: `The remote database ${display} did not answer: ${redactText(e instanceof Error ? e.message : String(e))}.`,
      untouched: "Nothing was changed.",
      next: "Check the network, VOX_DB_URL and VOX_DB_TOKEN, then run the command again.",
    });
  }
}

import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { ROOT, tmp } from "../helpers.js";

/**
 * The build's own connection takes a proof the worker has not begun (native-proof.ts) while it is in
 * its write transaction. A SQLite error in that read which ends the transaction (SQLite rolls it back
 * on no memory, a full disk, an I/O error) is the build's failure: thrown, not turned into "could not
 * prove this table" with the build going on outside any transaction (its rows loaded so far gone).
 *
 * Run in a process of its own: SQLite's heap limit (how the error is made here) is the whole
 * process's, and a test worker's other connections would count against it.
 */
const SCENARIO = `
const [root, file] = process.argv.slice(1);
process.env.VOX_CUTOVER_TEST_PROOF_WORKER_SLOW_MS = "3000"; // the worker does not claim the ticket in time: this thread takes it
const { ProofBeside } = await import(new URL("dist/src/backup/native-proof.js", root).href);
const { openReadWrite } = await import(new URL("dist/src/db/local.js", root).href);
const { listBackupTables } = await import(new URL("dist/src/backup/tables.js", root).href);
const db = openReadWrite(file);
db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE loaded(x)");
db.exec("INSERT INTO t SELECT value, printf('%.7000c', 'x') FROM generate_series(1, 3000)");
const table = listBackupTables(db).find((t) => t.name === "t");
const proofs = new ProofBeside(file, db);
db.exec("BEGIN IMMEDIATE");
db.exec("INSERT INTO loaded VALUES ('a row loaded before the take')");
const ticket = proofs.submit({ ...table, rows: 3000 });
db.exec("PRAGMA hard_heap_limit=3000000"); // SQLite's own heap: the take's read runs out of memory
let thrown = null;
let answer = null;
try {
  answer = proofs.answer(ticket);
} catch (e) {
  thrown = String(e);
}
db.exec("PRAGMA hard_heap_limit=0");
console.log(JSON.stringify({ thrown, answer, inTransaction: db.inTransaction, took: proofs.tookTicket(ticket) }));
await proofs.close();
db.close();
`;

describe("a proof taken inside the build's write transaction", () => {
  it("an error that rolled the transaction back is thrown, not taken for an unproven table", async () => {
    const file = join(tmp("vox-proof-take-"), "build.db");
    const r = await execa("node", ["--input-type=module", "-e", SCENARIO, pathToFileURL(`${ROOT}/`).href, file], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { thrown: string | null; answer: unknown; inTransaction: boolean; took: boolean };
    expect(out.took).toBe(true); // this thread took the table …
    expect(out.inTransaction).toBe(false); // … SQLite rolled the write transaction back in its read …
    expect(out.thrown).toMatch(/memory/i); // … and the take says so, as the build's next write would
    expect(out.answer).toBeNull();
  });
});

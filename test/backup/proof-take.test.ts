import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { dist, tmp } from "../helpers.js";

type Proof = typeof import("../../src/backup/native-proof.js");
type Local = typeof import("../../src/db/local.js");
type Tables = typeof import("../../src/backup/tables.js");

/**
 * The build's own connection takes a proof the worker has not begun (native-proof.ts) while it is in
 * its write transaction. A SQLite error in that read which ends the transaction (SQLite rolls it back
 * on no memory, a full disk, an I/O error) is the build's failure: thrown, not turned into "could not
 * prove this table" with the build going on outside any transaction (its rows loaded so far gone).
 */
describe("a proof taken inside the build's write transaction", () => {
  it("an error that rolled the transaction back is thrown, not taken for an unproven table", async () => {
    process.env.VOX_CUTOVER_TEST_PROOF_WORKER_SLOW_MS = "3000"; // the worker does not claim the ticket in time: this thread takes it
    const { ProofBeside } = await dist<Proof>("backup/native-proof.js");
    const { openReadWrite } = await dist<Local>("db/local.js");
    const { listBackupTables } = await dist<Tables>("backup/tables.js");
    const file = join(tmp("vox-proof-take-"), "build.db");
    const db = openReadWrite(file);
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE loaded(x)");
    db.exec("INSERT INTO t SELECT value, printf('%.7000c', 'x') FROM generate_series(1, 3000)");
    const table = listBackupTables(db).find((t) => t.name === "t")!;
    const proofs = new ProofBeside(file, db);
    try {
      db.exec("BEGIN IMMEDIATE");
      db.exec("INSERT INTO loaded VALUES ('a row loaded before the take')");
      const ticket = proofs.submit({ ...table, rows: 3000 });
      db.exec("PRAGMA hard_heap_limit=3000000"); // SQLite's own heap: the take's read runs out of memory
      let thrown: unknown = null;
      try {
        proofs.answer(ticket);
      } catch (e) {
        thrown = e;
      } finally {
        db.exec("PRAGMA hard_heap_limit=0");
      }
      expect(db.inTransaction).toBe(false); // SQLite rolled the write transaction back …
      expect(String(thrown)).toMatch(/memory/i); // … and the take says so, as the build's next write would
      expect(proofs.tookTicket(ticket)).toBe(true);
    } finally {
      delete process.env.VOX_CUTOVER_TEST_PROOF_WORKER_SLOW_MS;
      await proofs.close();
      db.close();
    }
  });
});

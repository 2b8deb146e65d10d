/** The ledger is a database concern (src/db/ledger.ts); re-exported for the engine's readers. */
export * from "../db/ledger.js";

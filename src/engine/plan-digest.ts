/** The plan digest is a pure hash (src/db/plan-digest.ts); re-exported for the engine's readers. */
export * from "../db/plan-digest.js";

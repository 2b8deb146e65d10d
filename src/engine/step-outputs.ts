/**
 * Typed step outputs: the journal keeps each step's outputs as JSON, and what a reader needs of them
 * is checked through its valibot schema here (types inferred, never written twice, never cast).
 * A recorded output that does not match reads as absent — the reader then does without it.
 */
import * as v from "valibot";
import { FileIdentitySchema } from "../schemas.js";

const str = v.string();
const num = v.number();
const counts = v.record(str, num);

const ObjectsSchema = v.object({
  carried: v.array(v.looseObject({ type: str, name: str, table: str })),
  notCarried: v.array(v.looseObject({ type: str, name: str, table: str, sql: str, reason: str })),
});

export const StepOutputSchemas = {
  // Each field optional: a reader does without the part it lacks (resume needs only the identity).
  export: v.looseObject({ path: v.optional(str), sha256: v.optional(str), rows: v.optional(num), identity: v.optional(FileIdentitySchema), tables: v.optional(v.array(v.looseObject({ name: str, rows: num }))) }),
  "verify-backup": v.looseObject({ verified: v.boolean(), sha256: str, rows: num }),
  "build-import": v.looseObject({
    path: str,
    loaded: num,
    quarantined: num,
    tables: v.array(v.looseObject({ name: str, target: str, rows: num, loaded: num, quarantined: num, reasons: v.optional(counts), partial: v.optional(num), columns: v.optional(counts) })),
    evidence: v.optional(v.looseObject({ objects: v.optional(ObjectsSchema) })),
  }),
  swap: v.looseObject({ archive: str }),
} as const;

export type StepWithOutputs = keyof typeof StepOutputSchemas;
export type StepOutput<K extends StepWithOutputs> = v.InferOutput<(typeof StepOutputSchemas)[K]>;

/** The recorded outputs of step `id`, checked (undefined: the step did not run, or recorded something else). */
export function outputOf<K extends StepWithOutputs>(outputs: ReadonlyMap<string, Record<string, unknown>>, id: K): StepOutput<K> | undefined {
  const raw = outputs.get(id);
  if (raw === undefined) return undefined;
  const r = v.safeParse(StepOutputSchemas[id], raw);
  return r.success ? (r.output as StepOutput<K>) : undefined;
}

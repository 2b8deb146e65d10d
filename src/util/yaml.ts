import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { failed } from "../errors.js";
import { derivedFor } from "./derived.js";

/** The YAML parser, loaded on first need: the bundled contracts are read from their derived parse (util/derived.ts). */
function parseDocument(...args: Parameters<typeof import("yaml").parseDocument>): ReturnType<typeof import("yaml").parseDocument> {
  const require = createRequire(import.meta.url);
  const yaml = require("yaml") as typeof import("yaml");
  return yaml.parseDocument(...args);
}

/** Reads a YAML contract; a malformed file is a `failed` error naming the file and line. */
export function loadYamlFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw failed({
      what: `Cannot read the contract file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}.`,
      untouched: "No database was opened or changed.",
      next: "Restore the file from the repository (git checkout -- <file>) and run the command again.",
    });
  }
  // The bundled contract's parse, when this is exactly its text (a fresh copy: callers may change what they get).
  const known = derivedFor<unknown>("yaml", text);
  if (known !== undefined) return structuredClone(known);
  return parseYaml(text, path);
}

/** Parses a contract's text (no derived values); a malformed text is a `failed` error naming the file and line. */
export function parseYaml(text: string, path: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lineOf(text, err.pos?.[0] ?? 0);
    throw failed({
      what: `The contract file ${path} is not valid YAML at line ${line}: ${err.message.split("\n")[0]}.`,
      untouched: "No database was opened or changed.",
      next: `Fix line ${line} of ${path} (or restore it with git) and run the command again.`,
      details: { file: path, line },
    });
  }
  return doc.toJS();
}

function lineOf(text: string, pos: number): number {
  return text.slice(0, pos).split("\n").length;
}

/** Throws a `failed` error naming the file when a contract field has the wrong type. */
export function contractFieldError(path: string, field: string, expected: string): never {
  throw failed({
    what: `The contract file ${path} has no valid \`${field}\` (expected ${expected}).`,
    untouched: "No database was opened or changed.",
    next: `Fix \`${field}\` in ${path} and run the command again.`,
    details: { file: path, field },
  });
}

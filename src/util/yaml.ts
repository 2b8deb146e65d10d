import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { failed } from "../errors.js";

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

/**
 * Folders by domain, without import cycles between them: the imports of src/ and stages/ are read
 * as text (relative `from "…"` specifiers, type-only imports included) and folded to one node per
 * folder (src/<folder>, or src/<file> for a top-level file). The test fails if any folders import
 * each other, directly or through others (db, schema and backup did: diagnose and migrate, which
 * sit above them, moved to src/diagnose and src/migrate).
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./helpers.js";

function folderGraph(): Map<string, Set<string>> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(f)) files.push(p);
    }
  };
  walk(join(ROOT, "src"));
  walk(join(ROOT, "stages"));
  const folderOf = (p: string) => {
    const r = relative(ROOT, p).split("/");
    return r[0] === "src" ? `src/${r.length > 2 ? r[1] : r[1]!.replace(/\.tsx?$/, "")}` : r[0]!;
  };
  const edges = new Map<string, Set<string>>();
  for (const f of files) {
    for (const m of readFileSync(f, "utf8").matchAll(/(?:import|export)\s[^"']*?from\s+["'](\.[^"']+)["']|import\(["'](\.[^"']+)["']\)/g)) {
      const a = folderOf(f);
      const b = folderOf(resolve(dirname(f), (m[1] ?? m[2])!).replace(/\.js$/, ".ts"));
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }
  return edges;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])])) if (!index.has(v)) visit(v);
  return out;
}

describe("folders by domain", () => {
  it("no folder is in an import cycle", () => {
    expect(cycles(folderGraph()).map((c) => c.join(" ↔ "))).toEqual([]);
  });

  it("the low layers stay below: db imports neither schema nor backup, and neither of them imports diagnose or migrate", () => {
    const g = folderGraph();
    expect([...(g.get("src/db") ?? [])].filter((f) => ["src/schema", "src/backup", "src/diagnose", "src/migrate"].includes(f))).toEqual([]);
    for (const low of ["src/schema", "src/backup"])
      expect(
        [...(g.get(low) ?? [])].filter((f) => ["src/diagnose", "src/migrate"].includes(f)),
        low,
      ).toEqual([]);
  });

  it("the cycle finder finds a cycle (so the test above can fail)", () => {
    expect(
      cycles(
        new Map([
          ["a", new Set(["b"])],
          ["b", new Set(["a"])],
          ["c", new Set(["a"])],
        ]),
      ),
    ).toEqual([["a", "b"]]);
  });

  it("no source file over 450 lines", () => {
    const long: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(f) && readFileSync(p, "utf8").split("\n").length > 451) long.push(relative(ROOT, p));
      }
    };
    for (const d of ["src", "stages", "bench"]) walk(join(ROOT, d));
    expect(long).toEqual([]);
  });
});

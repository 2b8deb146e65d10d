/**
 * npm run bench:large-reference [-- --mb 120] [-- --bin DIR]
 *
 * Peak RSS of importing vox's own export-legacy file whose largest value is --mb MB (issue 17): one
 * embeddings row whose BLOB `vector` (about --mb MB) is a `"base64:…"` string (vox's convention),
 * and one whose TEXT `metadata` is --mb/2 MB of text with escapes (`\n`, `\"`, non-ASCII raw).
 * Python writes the file in chunks and records each value's sha3; `import-legacy --apply
 * --accept-unverified` runs under `/usr/bin/time`; Python's sqlite3 then checks typeof and sha3 of
 * both values in the new file. Prints exit code, wall seconds, CPU seconds (user + sys), peak RSS,
 * and whether the values are bit-exact. `--bin DIR`: another build's dist on the same file.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const arg = (name: string) => {
  const k = process.argv.indexOf(name);
  return k >= 0 ? process.argv[k + 1] : undefined;
};
const BIN = join(resolve(arg("--bin") ?? ROOT), "dist", "src", "cli", "main.js");
const MB = Number(arg("--mb") ?? 120);

const WRITE = String.raw`
import sys, base64, hashlib, json, random
path, mb = sys.argv[1], int(sys.argv[2])
random.seed(1)
E = ["id", "source_type", "source_id", "dim", "vector", "metadata", "created_at"]
vh, th = hashlib.sha3_256(), hashlib.sha3_256()
with open(path, "wb") as f:
    f.write(b'{"columns":' + json.dumps(E, separators=(",", ":")).encode() + b',"row":{"created_at":"2024","dim":3,"id":1,"metadata":"m","source_id":"s1","source_type":"doc","vector":"base64:')
    k = (mb << 20) // (3 << 18)  # a BLOB of about --mb MB, written in slices of 768 KB (a multiple of 3)
    for i in range(k):
        chunk = random.randbytes(3 << 18) if i < k - 1 else random.randbytes((3 << 18) + 1)  # the last slice leaves padding
        vh.update(chunk)
        f.write(base64.b64encode(chunk))
    f.write(b'"},"table":"embeddings"}\n')
    f.write(b'{"columns":' + json.dumps(E, separators=(",", ":")).encode() + b',"row":{"created_at":"2024","dim":3,"id":2,"metadata":"')
    piece = 'résumé "quoted" \\ line\n 東京 🚀 ' * 20000
    enc = json.dumps(piece, ensure_ascii=False)[1:-1].encode()
    n = 0
    while n < (mb << 19):
        th.update(piece.encode())
        f.write(enc)
        n += len(enc)
    f.write(b'","source_id":"s2","source_type":"doc","vector":"base64:AAEC"},"table":"embeddings"}\n')
print(json.dumps({"vector": vh.hexdigest(), "metadata": th.hexdigest()}))
`;

const JUDGE = String.raw`
import sqlite3, sys, json, hashlib
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
exp = json.loads(sys.argv[2])
def h(sql):
    t, v = c.execute(sql).fetchone()
    return t, hashlib.sha3_256(v).hexdigest(), len(v)
vt, vs, vn = h("SELECT typeof(vector), vector FROM embeddings WHERE id = 1")
mt, ms, mn = h("SELECT typeof(metadata), CAST(metadata AS BLOB) FROM embeddings WHERE id = 2")
print(json.dumps({"vector": [vt, vs == exp["vector"], vn], "metadata": [mt, ms == exp["metadata"], mn], "integrity": c.execute("PRAGMA integrity_check").fetchone()[0]}))
`;

const dir = mkdtempSync(join(tmpdir(), "vox-bench-ref-"));
try {
  const ref = join(dir, "export.jsonl");
  const w = spawnSync("python3", ["-c", WRITE, ref, String(MB)], { encoding: "utf8" });
  if (w.status !== 0) throw new Error(w.stderr);
  const expected = w.stdout.trim();
  const target = join(dir, "new.db");
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M %U %S", "sh", BIN, "import-legacy", ref, "--db", target, "--apply", "--accept-unverified"], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const lines = r.stderr.trim().split("\n");
  const [sec, kb, user, sys] = (lines.at(-1) ?? "0 0 0 0").split(" ").map(Number);
  console.log(
    `import-legacy --apply (vox export, ${MB} MB BLOB as base64: + ${MB / 2} MB text): exit ${r.status}, ${sec} s wall, ${((user ?? 0) + (sys ?? 0)).toFixed(1)} CPU-s, peak RSS ${Math.round((kb ?? 0) / 1024)} MB`,
  );
  if (r.status !== 0) console.log(lines.slice(0, -1).join("\n").slice(0, 600));
  else console.log(spawnSync("python3", ["-c", JUDGE, target, expected], { encoding: "utf8" }).stdout.trim());
} finally {
  rmSync(dir, { recursive: true, force: true });
}

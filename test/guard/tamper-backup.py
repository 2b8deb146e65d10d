"""Edits one value of table TABLE in a vox-cutover backup into a non-canonical spelling (a letter
written as a \\u escape: the same value once decoded) and recomputes every hash (table, end marker,
whole file, trailer), as someone editing the file by hand would: only the canonical check can tell.
With a third argument `swap`, the table's first two rows change places instead (only the order
check, or a comparison with the database, can tell); with `letter`, the first lowercase letter of
a string in the table's first such row becomes another (canonical still: only a comparison with
the database or with the export's record can tell); with `drop`, the table's first row is removed
and the header's count lowered to match (only a count of the database can tell)."""
import hashlib, json, re, sys

path, table = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "spelling"
swap = mode == "swap"
lines = open(path, "rb").read().split(b"\n")
assert lines[-1] == b""
lines = lines[:-1]
cur = None
done = False
out = []
for raw in lines:
    o = json.loads(raw)
    if isinstance(o, dict) and o.get("k") == "table":
        cur = o["name"]
    elif isinstance(o, list) and cur == table and not done and mode == "drop":
        done = True
        continue
    elif isinstance(o, list) and cur == table and not done and mode == "letter":
        s = raw.decode()
        m = re.search(r'"([a-y])', s)
        if m:
            raw = (s[: m.start(1)] + chr(ord(m.group(1)) + 1) + s[m.end(1):]).encode()
            done = True
    elif isinstance(o, list) and cur == table and not done and swap:
        if isinstance(out[-1][:1], bytes) and out[-1][:1] == b"[":
            out[-1], raw = raw, out[-1]
            done = True
    elif isinstance(o, list) and cur == table and not done:
        s = raw.decode()
        m = re.search(r'"([a-z])', s)  # the table's first row holding a string with a letter
        if m:
            raw = (s[: m.start(1)] + "\\u%04x" % ord(m.group(1)) + s[m.end(1):]).encode()
            assert json.loads(raw) == o
            done = True
    out.append(raw)
assert done, "no row of " + table
# recompute table hashes, end markers, file hash and trailer
file_h = hashlib.sha256()
th = None
tables = []
final = []
for raw in out:
    o = json.loads(raw)
    if isinstance(o, dict) and o.get("k") == "trailer":
        o["fileSha256"] = file_h.hexdigest()
        o["tables"] = tables
        if mode == "drop":
            o["totalRows"] -= 1
        final.append(json.dumps(o, separators=(",", ":")).encode())
        continue
    if isinstance(o, dict) and o.get("k") == "header" and mode == "drop":
        for t in o["tables"]:
            if t["name"] == table:
                t["rows"] = (int(t["rows"]) - 1) if not isinstance(t["rows"], str) else str(int(t["rows"]) - 1)
        raw = json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()
    elif isinstance(o, dict) and o.get("k") == "table":
        th = hashlib.sha256()
    elif isinstance(o, list):
        th.update(raw + b"\n")
    elif isinstance(o, dict) and o.get("k") == "end":
        o["sha256"] = th.hexdigest()
        if mode == "drop" and o["name"] == table:
            o["rows"] -= 1
        tables.append({"name": o["name"], "rows": o["rows"], "sha256": o["sha256"]})
        raw = json.dumps(o, separators=(",", ":")).encode()
    file_h.update(raw + b"\n")
    final.append(raw)
open(path, "wb").write(b"\n".join(final) + b"\n")

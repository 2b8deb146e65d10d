import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BIN, cleanEnv, cli, tmp } from "../helpers.js";

const T = 1736933400000;

/**
 * Lines written byte for byte as vox's trainers write them (serde_json: compact, keys in struct
 * order, f64 through ryu so 3.0 stays "3.0"), keys per vox-reference/README.md "Telemetry JSONL".
 */
const CANDLE = [
  // Candle trainer at HEAD: train_start
  `{"event":"train_start","payload":{"train_file":"target/dogfood/train.jsonl","output":"target/dogfood/run1","seed":42,"grad_accum":8,"epochs":3,"planned_steps_total":1200,"planned_optimizer_steps_total":150,"compute_device":"cuda:0","warmup_steps":30,"n_heads":16,"n_kv_heads":4,"run_id":"run-2025-01-15T09-30-00Z"},"ts_ms":${T}}`,
  // warm-up: no ETA, no EMA yet, so tokens_per_sec is null too
  `{"event":"step","payload":{"epoch":0,"step":1,"optimizer_step":0,"loss":3.0,"lr":2e-5,"learning_rate":2e-5,"eta_seconds_remaining":null,"progress_fraction":0.0008333333333333334,"steps_per_sec_ema":null,"tokens_per_sec":null,"tokens_per_sec_is_proxy":false,"valid_tokens":1733,"theoretical_tokens":2048,"supervised_ratio_pct":84.619140625,"skipped_empty":0,"skipped_too_long":0},"ts_ms":${T + 812}}`,
  `{"event":"step","payload":{"epoch":0,"step":2,"optimizer_step":0,"loss":2.8712387084960938,"lr":2e-5,"learning_rate":2e-5,"eta_seconds_remaining":1843.2,"progress_fraction":0.0016666666666666668,"steps_per_sec_ema":0.6510416666666666,"tokens_per_sec":1128.2552083333333,"tokens_per_sec_is_proxy":true,"valid_tokens":1712,"theoretical_tokens":2048,"supervised_ratio_pct":83.59375,"skipped_empty":0,"skipped_too_long":1},"ts_ms":${T + 2348}}`,
  `{"event":"train_complete","payload":{"global_step":1200,"optimizer_step":150,"skipped_empty":3,"skipped_too_long":12,"final_adapter":"target/dogfood/run1/adapter_final.safetensors","run_id":"run-2025-01-15T09-30-00Z"},"ts_ms":${T + 1_843_000}}`,
];
const BURN = [
  // Burn trainer (an older writer): run metadata from telemetry_schema.rs, another subset
  `{"event":"train_start","payload":{"train_file":"mens/data/pairs.jsonl","output":"mens/runs/burn-1","seed":7,"grad_accum":4,"pairs_loaded":18230,"execution_kernel":"burn-wgpu","contract_digest":"0x5f1e0c0ffee","telemetry_schema":1,"candle_compat_mode":"off","epochs":2,"planned_steps_per_epoch":4558,"planned_steps_total":9116},"ts_ms":${T}}`,
  `{"event":"gpu_fallback","payload":{"reason":"wgpu adapter not found; using ndarray (CPU)"},"ts_ms":${T + 5}}`,
  `{"event":"step","payload":{"epoch":1,"step":10,"loss":4.125,"lr":0.0001,"eta_seconds_remaining":null,"steps_per_sec_ema":null},"ts_ms":${T + 10_000}}`,
  `{"event":"epoch_complete","payload":{"epoch":1,"loss":1.25},"ts_ms":${T + 600_000}}`,
  `{"event":"routing_efficiency","payload":{"routing_efficiency":0.8125},"ts_ms":${T + 600_001}}`,
  `{"event":"train_complete","payload":{"global_step":9116,"final_adapter":"mens/runs/burn-1/final"},"ts_ms":${T + 1_200_000}}`,
];

async function check(files: string[], json = true) {
  return cli(["telemetry-check", ...files, ...(json ? ["--json"] : [])]);
}

describe("telemetry-check (Stage 3) against vox's writers", () => {
  it("every line vox's Candle and Burn trainers write passes: exit 0, no violation, no warning, counts per event", async () => {
    const d = tmp();
    const candle = join(d, "candle.jsonl");
    const burn = join(d, "burn.jsonl");
    writeFileSync(candle, CANDLE.join("\n") + "\n");
    writeFileSync(burn, BURN.join("\n") + "\n");
    const r = await check([candle, burn]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.mode).toBe("read");
    expect(r.json.violations).toEqual([]);
    expect(r.json.warnings).toEqual([]);
    expect(r.json.counts).toEqual({ train_start: 2, step: 3, train_complete: 2, gpu_fallback: 1, epoch_complete: 1, routing_efficiency: 1 });
    expect(r.json.files).toEqual([
      { file: candle, lines: 4, violations: 0, warnings: 0 },
      { file: burn, lines: 6, violations: 0, warnings: 0 },
    ]);
  });

  it("a file with a UTF-8 BOM and CRLF line ends (and no final newline) passes", async () => {
    const d = tmp();
    const f = join(d, "crlf.jsonl");
    writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CANDLE.join("\r\n"))]));
    const r = await check([f]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.files[0]).toEqual({ file: f, lines: 4, violations: 0, warnings: 0 });
    expect(r.json.counts).toEqual({ train_start: 1, step: 2, train_complete: 1 });
  });

  it("every kind of violation is named with its file and exact line; warnings are not violations", async () => {
    const d = tmp();
    const f = join(d, "bad.jsonl");
    const lines = [
      CANDLE[0], // 1 ok
      '{"event":"step","payload":{', // 2 invalid JSON
      '["step",{},1736933400000]', // 3 not an object
      `{"event":"step","payload":{"step":1,"loss":1.0}}`, // 4 missing ts_ms
      `{"event":"step","payload":{"step":1,"loss":1.0},"ts_ms":${T},"host":"gpu-1"}`, // 5 extra envelope key
      `{"event":"","payload":{},"ts_ms":${T}}`, // 6 empty event
      `{"event":7,"payload":{},"ts_ms":${T}}`, // 7 event not a string
      `{"event":"gpu_fallback","payload":[],"ts_ms":${T}}`, // 8 payload not an object
      `{"event":"step","payload":{"step":1,"loss":1.0},"ts_ms":"${T}"}`, // 9 ts_ms a string
      `{"event":"step","payload":{"step":1,"loss":1.0},"ts_ms":${T}.0}`, // 10 ts_ms not an integer literal
      `{"event":"step","payload":{"step":1,"loss":1.0},"ts_ms":1.7369334e12}`, // 11 ts_ms with exponent
      `{"event":"step","payload":{"step":3.0,"loss":1.0},"ts_ms":${T}}`, // 12 integer key written as a float
      `{"event":"step","payload":{"step":"3","loss":1.0},"ts_ms":${T}}`, // 13 integer key as a string
      `{"event":"step","payload":{"step":3,"loss":null},"ts_ms":${T}}`, // 14 number key null
      `{"event":"step","payload":{"step":3,"loss":1.0,"eta_seconds_remaining":"soon"},"ts_ms":${T}}`, // 15 number-or-null as a string
      `{"event":"step","payload":{"step":3,"loss":1.0,"tokens_per_sec_is_proxy":1},"ts_ms":${T}}`, // 16 boolean as a number
      `{"event":"train_start","payload":{"run_id":12,"telemetry_schema":1},"ts_ms":${T}}`, // 17 string key as a number
      `{"event":"train_start","payload":{"telemetry_schema":2},"ts_ms":${T}}`, // 18 telemetry_schema must be 1
      `{"event":"step","event":"epoch_complete","payload":{"step":1,"loss":1.0},"ts_ms":${T}}`, // 19 duplicate envelope key
      CANDLE[2], // 20 ok
    ];
    writeFileSync(f, lines.join("\n") + "\n");
    const r = await check([f]);
    expect(r.exitCode).toBe(1);
    expect(r.json.ok).toBe(false);
    const at = (n: number) =>
      r.json.violations
        .filter((v: any) => v.line === n)
        .map((v: any) => v.message)
        .join(" | ");
    expect(at(1) + at(20)).toBe("");
    expect(at(2)).toMatch(/^invalid JSON/);
    expect(at(3)).toMatch(/not a JSON object/);
    expect(at(4)).toMatch(/missing envelope key\(s\): ts_ms/);
    expect(at(5)).toMatch(/extra envelope key\(s\): "host"/);
    expect(at(6)).toMatch(/event must be a non-empty string/);
    expect(at(7)).toMatch(/event must be a non-empty string, got 7/);
    expect(at(8)).toMatch(/payload must be an object/);
    expect(at(9)).toMatch(/ts_ms must be an integer/);
    expect(at(10)).toMatch(/ts_ms must be an integer .*got 1736933400000\.0/);
    expect(at(11)).toMatch(/ts_ms must be an integer/);
    expect(at(12)).toMatch(/payload\.step must be integer, got number 3\.0/);
    expect(at(13)).toMatch(/payload\.step must be integer, got string/);
    expect(at(14)).toMatch(/payload\.loss must be number, got null/);
    expect(at(15)).toMatch(/payload\.eta_seconds_remaining must be number or null, got string/);
    expect(at(16)).toMatch(/payload\.tokens_per_sec_is_proxy must be boolean, got integer/);
    expect(at(17)).toMatch(/payload\.run_id must be string, got integer/);
    expect(at(18)).toMatch(/payload\.telemetry_schema must be 1, got 2/);
    expect(at(19)).toMatch(/duplicate envelope key "event"/);
    expect(new Set(r.json.violations.map((v: any) => v.line))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]));
    for (const v of r.json.violations) expect(v.file).toBe(f);
    // The human report: FILE:LINE: what is wrong
    const text = await check([f], false);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`${f}:12: step: payload.step must be integer, got number 3.0`);
    expect(text.stdout).toContain(`${f}:2: invalid JSON`);
  });

  it("no payload key is required; a step without step or loss, unknown events, empty lines and ts_ms in seconds are warnings only (exit 0)", async () => {
    const d = tmp();
    const f = join(d, "warn.jsonl");
    const lines = [
      `{"event":"train_start","payload":{},"ts_ms":${T}}`, // 1 no key at all: fine
      `{"event":"step","payload":{"epoch":0,"lr":2e-5},"ts_ms":${T}}`, // 2 warning: no step, loss
      `{"event":"step","payload":{"step":5},"ts_ms":${T}}`, // 3 warning: no loss
      `{"event":"my_custom_event","payload":{"anything":[1,2,{"x":null}],"loss":"not checked? it is: loss is a listed key"},"ts_ms":${T}}`, // 4 unknown event (warning) + listed key checked (violation)
      "", // 5 empty line: warning
      `{"event":"gpu_fallback","payload":{"reason":"OOM"},"ts_ms":1736933400}`, // 6 seconds: warning
    ];
    writeFileSync(f, lines.join("\n") + "\n");
    const r = await check([f]);
    const w = (n: number) =>
      r.json.warnings
        .filter((v: any) => v.line === n)
        .map((v: any) => v.message)
        .join(" | ");
    expect(w(1)).toBe("");
    expect(w(2)).toMatch(/step: payload has no step, loss/);
    expect(w(3)).toMatch(/step: payload has no loss/);
    expect(w(4)).toMatch(/unknown event "my_custom_event"/);
    expect(w(5)).toMatch(/empty line/);
    expect(w(6)).toMatch(/ts_ms 1736933400 is outside/);
    // the only violation is line 4's loss (a listed key is type-checked in any event)
    expect(r.json.violations).toEqual([
      { file: f, line: 4, message: 'my_custom_event: payload.loss must be number, got string "not checked? it is: loss is a listed key"' },
    ]);
    expect(r.exitCode).toBe(1);
    // without line 4 the file is clean: exit 0 with warnings
    writeFileSync(f, lines.filter((_, i) => i !== 3).join("\n") + "\n");
    const clean = await check([f]);
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.json.violations).toEqual([]);
    expect(clean.json.warnings.length).toBe(4);
  });

  it("counts any event name as itself: constructor, __proto__, toString, hasOwnProperty", async () => {
    const d = tmp();
    const f = join(d, "names.jsonl");
    const names = ["constructor", "__proto__", "__proto__", "toString", "hasOwnProperty", "valueOf", "step"];
    writeFileSync(f, names.map((n) => `{"event":${JSON.stringify(n)},"payload":{"step":1,"loss":1.0},"ts_ms":${T}}`).join("\n") + "\n");
    const r = await check([f]);
    expect(r.exitCode, r.stderr).toBe(0);
    const counts = JSON.parse(r.stdout).counts;
    expect(Object.getPrototypeOf(counts)).toBe(Object.prototype);
    expect(Object.keys(counts).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "step", "toString", "valueOf"]);
    expect(Object.getOwnPropertyDescriptor(counts, "__proto__")?.value).toBe(2);
    expect(counts.constructor).toBe(1);
    expect(counts.toString).toBe(1);
    expect(r.stdout).toContain('"__proto__": 2');
  });

  it("a file that cannot be read is reported and the others are still checked (exit 1)", async () => {
    const d = tmp();
    const good = join(d, "good.jsonl");
    const bad = join(d, "bad.jsonl");
    const folder = join(d, "a-folder.jsonl");
    mkdirSync(folder);
    writeFileSync(good, CANDLE.join("\n") + "\n");
    writeFileSync(bad, `{"event":"step","payload":{"step":1.5,"loss":1.0},"ts_ms":${T}}\n`);
    const missing = join(d, "missing.jsonl");
    const r = await check([missing, folder, good, bad]);
    expect(r.exitCode).toBe(1);
    expect(r.json.files.map((x: any) => [x.file, x.lines, x.violations, Boolean(x.error)])).toEqual([
      [missing, 0, 1, true],
      [folder, 0, 1, true],
      [good, 4, 0, false],
      [bad, 1, 1, false],
    ]);
    expect(r.json.violations.find((v: any) => v.file === missing).message).toMatch(/cannot be read: no such file/);
    expect(r.json.violations.find((v: any) => v.file === folder).message).toMatch(/cannot be read: it is a directory/);
    expect(r.json.violations.find((v: any) => v.file === bad)).toMatchObject({ line: 1 });
    expect(r.json.counts).toEqual({ train_start: 1, step: 3, train_complete: 1 });
  });

  it("invalid UTF-8 is a violation for that line only", async () => {
    const d = tmp();
    const f = join(d, "latin1.jsonl");
    writeFileSync(
      f,
      Buffer.concat([
        Buffer.from(CANDLE[0] + "\n"),
        Buffer.from(`{"event":"step","payload":{"run_id":"caf`),
        Buffer.from([0xe9]),
        Buffer.from(`"},"ts_ms":${T}}\n`),
        Buffer.from(CANDLE[1] + "\n"),
      ]),
    );
    const r = await check([f]);
    expect(r.exitCode).toBe(1);
    expect(r.json.violations).toEqual([{ file: f, line: 2, message: "not valid UTF-8" }]);
    expect(r.json.counts).toEqual({ train_start: 1, step: 1 });
  });

  it("a line longer than the bound (16 MiB) is a violation without being held; the lines after it are still checked", async () => {
    const d = tmp();
    const f = join(d, "long.jsonl");
    const fd = openSync(f, "w");
    writeSync(fd, CANDLE[0] + "\n");
    const head = `{"event":"step","payload":{"step":1,"loss":1.0,"note":"`;
    const tail = `"},"ts_ms":${T}}`;
    writeSync(fd, head);
    const mb = Buffer.alloc(1 << 20, "x");
    for (let i = 0; i < 20; i++) writeSync(fd, mb);
    writeSync(fd, tail + "\n");
    writeSync(fd, CANDLE[1] + "\n" + CANDLE[3]); // last line without newline
    closeSync(fd);
    const r = await check([f]);
    expect(r.exitCode).toBe(1);
    expect(r.json.violations).toHaveLength(1);
    expect(r.json.violations[0]).toMatchObject({ file: f, line: 2 });
    expect(r.json.violations[0].message).toMatch(new RegExp(`^line is ${head.length + 20 * (1 << 20) + tail.length} bytes, longer than the 16777216 bytes`));
    expect(r.json.files[0].lines).toBe(4);
    expect(r.json.counts).toEqual({ train_start: 1, step: 1, train_complete: 1 });
  });

  it("flat memory: a 200 MB line and a 200 MB file of ordinary lines each stay far below their size in peak RSS", async () => {
    const d = tmp();
    const one = join(d, "one-line.jsonl");
    let fd = openSync(one, "w");
    writeSync(fd, `{"event":"step","payload":{"note":"`);
    const mb = Buffer.alloc(1 << 20, "y");
    for (let i = 0; i < 200; i++) writeSync(fd, mb);
    writeSync(fd, `"},"ts_ms":${T}}\n`);
    closeSync(fd);
    const many = join(d, "many.jsonl");
    fd = openSync(many, "w");
    const chunk = (CANDLE[2] + "\n").repeat(4000); // ~2.3 MB
    for (let i = 0; i < 90; i++) writeSync(fd, chunk);
    closeSync(fd);
    const peak = async (file: string) => {
      const r = await execa("/usr/bin/time", ["-f", "%M", "node", BIN, "telemetry-check", file, "--json"], {
        env: cleanEnv(),
        extendEnv: false,
        reject: false,
      });
      const kb = Number(r.stderr.trim().split("\n").at(-1));
      return { mb: kb / 1024, json: JSON.parse(r.stdout), exitCode: r.exitCode };
    };
    const a = await peak(one);
    expect(a.exitCode).toBe(1);
    expect(a.json.violations[0].message).toMatch(/longer than/);
    const b = await peak(many);
    expect(b.exitCode).toBe(0);
    expect(b.json.counts).toEqual({ step: 360_000 });
    console.log(`telemetry-check peak RSS: 200 MB line ${a.mb.toFixed(0)} MB; ${b.json.files[0].lines} lines ${b.mb.toFixed(0)} MB`);
    expect(a.mb).toBeLessThan(140);
    expect(b.mb).toBeLessThan(140);
  }, 120_000);

  it("no FILE is a usage error (exit 2)", async () => {
    const r = await cli(["telemetry-check"]);
    expect(r.exitCode).toBe(2);
  });
});

/** A small deterministic PRNG (mulberry32) so `sample --seed N` always writes the same data. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
  words(n: number): string {
    return Array.from({ length: n }, () => this.pick(WORDS)).join(" ");
  }
}

const WORDS = [
  "cutover",
  "baseline",
  "schema",
  "vox",
  "codex",
  "arca",
  "ledger",
  "archive",
  "rowid",
  "digest",
  "telemetry",
  "sidecar",
  "publication",
  "news",
  "agent",
  "session",
  "memory",
  "skill",
  "package",
  "workflow",
  "routing",
  "calibration",
  "search",
  "chunk",
  "embedding",
  "topic",
  "research",
  "audit",
  "fold",
  "quarantine",
  "verify",
  "backup",
  "restore",
  "drill",
  "gate",
  "operator",
  "migration",
];

/**
 * Deterministic randomness for the twin. Every stream is derived from (seed, purpose, tick…) by hashing,
 * so a stream's values do not depend on which other streams were used (turning flow export off does
 * not change the traffic). sfc32 generator, cyrb53-style seed hash: both public-domain classics.
 */
function hash32(seed: number, parts: readonly (string | number)[]): [number, number, number, number] {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  const mix = (n: number) => {
    h1 = Math.imul(h1 ^ n, 2654435761);
    h2 = Math.imul(h2 ^ n, 1597334677);
  };
  for (const p of parts) {
    if (typeof p === 'number') {
      mix(p | 0);
      mix(Math.floor(p / 4294967296) | 0);
    } else for (let i = 0; i < p.length; i++) mix(p.charCodeAt(i));
    mix(0x9e3779b9);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0, (h1 ^ 0xa5a5a5a5) >>> 0, (h2 ^ 0x5a5a5a5a) >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number, ...parts: (string | number)[]) {
    [this.a, this.b, this.c, this.d] = hash32(seed, parts);
    for (let i = 0; i < 12; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Binomial draw (normal approximation above n·p·(1-p) > 20, exact below). */
  binomial(n: number, p: number): number {
    if (p <= 0 || n <= 0) return 0;
    if (p >= 1) return n;
    const var_ = n * p * (1 - p);
    if (var_ > 20) return Math.max(0, Math.min(n, Math.round(n * p + Math.sqrt(var_) * this.normal())));
    let k = 0;
    for (let i = 0; i < n; i++) if (this.next() < p) k++;
    return k;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
}

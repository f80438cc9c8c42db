/**
 * The load side of bench:api, run as its own process so the server under test keeps its core.
 *
 * Open-loop, constant arrival rate (the wrk2 / k6 "constant-arrival-rate" model): request i is due
 * at start + i / rate, whatever happened to earlier requests, and its latency is measured from that
 * due time. A slow response therefore cannot hide the requests that should have been sent while it
 * was pending (no coordinated omission), and the load is spread evenly over each second.
 *
 * Why not autocannon's `overallRate`: it lets every connection send its whole per-second quota
 * back to back at the start of each second (500 requests in one burst, then silence), and its
 * coordinated-omission correction assumes a 1 ms interval for any rate, filling the histogram with
 * synthetic samples. What it measures is a burst of 500 simultaneous requests, not 500 req/s.
 *
 * Input (env): PP_LOAD_URL, PP_LOAD_TOKEN, PP_LOAD_PATHS (comma-separated), PP_LOAD_RATE (req/s),
 * PP_LOAD_SECONDS, PP_LOAD_CONNECTIONS. Output: one JSON line on stdout.
 */
import { Pool } from 'undici';

const url = required('PP_LOAD_URL');
const token = required('PP_LOAD_TOKEN');
const paths = required('PP_LOAD_PATHS').split(',');
const rate = Number(process.env.PP_LOAD_RATE ?? 500);
const seconds = Number(process.env.PP_LOAD_SECONDS ?? 10);
const connections = Number(process.env.PP_LOAD_CONNECTIONS ?? 20);
const WARMUP_S = 1;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const pool = new Pool(url, { connections, pipelining: 1 });
const headers = { authorization: `Bearer ${token}` };
const latenciesMs: number[] = [];
let errors = 0;
let non2xx = 0;
let inFlight = 0;
let maxInFlight = 0;

async function send(index: number, dueAt: number, record: boolean): Promise<void> {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  try {
    const res = await pool.request({ method: 'GET', path: paths[index % paths.length]!, headers });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
    else if (record) latenciesMs.push(performance.now() - dueAt);
  } catch {
    errors++;
  } finally {
    inFlight--;
  }
}

const intervalMs = 1000 / rate;
const total = Math.round(rate * (WARMUP_S + seconds));
const warmup = Math.round(rate * WARMUP_S);
const pending: Promise<void>[] = [];
const start = performance.now() + 50;
let next = 0;
await new Promise<void>((resolve) => {
  // Wake often; on each wake send every request that has come due (the timer's own lateness is
  // charged to those requests, since latency counts from the due time).
  const tick = (): void => {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      pending.push(send(next, start + next * intervalMs, next >= warmup));
      next++;
    }
    if (next >= total) resolve();
    else setTimeout(tick, Math.max(0, Math.min(1, start + next * intervalMs - now)));
  };
  tick();
});
const sendWindowS = (performance.now() - start) / 1000;
await Promise.all(pending);
await pool.close();

latenciesMs.sort((a, b) => a - b);
const pct = (p: number): number =>
  latenciesMs[Math.min(latenciesMs.length - 1, Math.ceil((p / 100) * latenciesMs.length) - 1)] ?? NaN;
const round = (v: number): number => Math.round(v * 100) / 100;
console.log(
  JSON.stringify({
    requests: total,
    measured: latenciesMs.length,
    rps: round(total / sendWindowS),
    p50: round(pct(50)),
    p90: round(pct(90)),
    p99: round(pct(99)),
    p999: round(pct(99.9)),
    max: round(latenciesMs.at(-1) ?? NaN),
    errors,
    non2xx,
    maxInFlight,
  }),
);

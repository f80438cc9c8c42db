/**
 * bench:api — the actuator REST API (core/http + actuatorRoutes) under 500 requests/s from a second
 * process on loopback (api-load.ts: constant arrival rate): a mix of proposal list, proposal detail and change-log reads
 * with a viewer token. Target: p99 ≤ 20 ms. 100 proposals are loaded first (no routers involved).
 */
import { spawn } from 'node:child_process';
import { TokenAuthenticator, createHttpServer } from '../../core/http/server.ts';
import { createRegistry } from '../../core/metrics.ts';
import { actuatorRoutes } from '../../actuator/index.ts';
import { startRouterlessActuator, weightProposal } from '../../actuator/testing.ts';

const rate = Number(process.env.PP_BENCH_RATE ?? 500);
const seconds = 10;
const registry = createRegistry();
const { actuator, queue } = await startRouterlessActuator({ registry });
for (let i = 0; i < 100; i++) await actuator.submit(weightProposal(`api-bench-${i}`));
const token = 'viewer-token-for-the-api-bench';
const auth = new TokenAuthenticator([{ token, principal: { name: 'bench', role: 'viewer' } }]);
const server = createHttpServer({ registry, auth }, { host: '127.0.0.1', port: 0 }, [actuatorRoutes(actuator)]);
await server.start();
const url = server.url();

// The load comes from a second process on loopback: a constant arrival rate, latency counted from
// each request's due time (see api-load.ts for why not autocannon's rate mode).
const paths =
  process.env.PP_BENCH_PATHS ?? '/api/v1/proposals/api-bench-42,/api/v1/proposals,/api/v1/changes?proposal=api-bench-7';
interface LoadResult {
  requests: number;
  measured: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
  non2xx: number;
  maxInFlight: number;
}
const result = await new Promise<LoadResult>((resolve, reject) => {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./api-load.ts', import.meta.url).pathname], {
    cwd: new URL('../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PP_LOAD_URL: url,
      PP_LOAD_TOKEN: token,
      PP_LOAD_PATHS: paths,
      PP_LOAD_RATE: String(rate),
      PP_LOAD_SECONDS: String(seconds),
      PP_LOAD_CONNECTIONS: '20',
    },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  child.on('exit', () => {
    clearTimeout(timer);
    try {
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult);
    } catch (err) {
      reject(new Error(`load generator output not understood: ${out.slice(0, 200)}`, { cause: err }));
    }
  });
});
await server.stop();
await actuator.stop();
await queue.stop();
const bad = result.errors + result.non2xx;
console.log(
  `api: ${result.measured} requests measured over ${seconds} s at a constant ${result.rps.toFixed(0)} req/s ` +
    `(${bad} errors/non-2xx, at most ${result.maxInFlight} in flight); p50 ${result.p50} ms, p90 ${result.p90} ms, ` +
    `p99 ${result.p99} ms, p99.9 ${result.p999} ms, max ${result.max} ms ` +
    `(target p99 ≤ 20 ms at ${rate} req/s, ratio ${(20 / Math.max(result.p99, 0.1)).toFixed(2)})`,
);
if (bad > 0) process.exitCode = 1;

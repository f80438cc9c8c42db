/**
 * bench:api — the actuator REST API (core/http + actuatorRoutes) under 500 requests/s from a second
 * process (autocannon CLI) on loopback: a mix of proposal list, proposal detail and change-log reads
 * with a viewer token. Target: p99 ≤ 20 ms. 100 proposals are loaded first (no routers involved).
 */
import { spawn } from 'node:child_process';
import { RealClock } from '../../core/clock.ts';
import { TokenAuthenticator, createHttpServer } from '../../core/http/server.ts';
import { createRegistry } from '../../core/metrics.ts';
import { MemoryQueue } from '../../core/queue/index.ts';
import { actuatorRoutes, createActuator } from '../../actuator/index.ts';
import { testRoot, weightProposal } from '../../test/functional/actuator/support.ts';

const rate = 500;
const seconds = 10;
const root = testRoot();
const queue = new MemoryQueue();
await queue.start();
const registry = createRegistry();
const actuator = createActuator(
  {
    root,
    queue,
    clock: new RealClock(),
    routerFor: () => {
      throw new Error('no routers in the API bench');
    },
    env: {},
    registry,
  },
  { gitops_dir: '' },
);
await actuator.start();
for (let i = 0; i < 100; i++) await actuator.submit(weightProposal(`api-bench-${i}`));
const token = 'viewer-token-for-the-api-bench';
const auth = new TokenAuthenticator([{ token, principal: { name: 'bench', role: 'viewer' } }]);
const server = createHttpServer({ registry, auth }, { host: '127.0.0.1', port: 0 }, [actuatorRoutes(actuator)]);
await server.start();
const url = server.url();

// One autocannon process (a second process on loopback) cycling over three reads.
const driver = `
  import autocannon from 'autocannon';
  const paths = process.env.PP_BENCH_PATHS ? process.env.PP_BENCH_PATHS.split(',') : ['/api/v1/proposals/api-bench-42', '/api/v1/proposals', '/api/v1/changes?proposal=api-bench-7'];
  const r = await autocannon({
    url: ${JSON.stringify(url)}, overallRate: ${rate}, connections: 20, duration: ${seconds},
    headers: { authorization: 'Bearer ${token}' },
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  console.log(JSON.stringify({ p99: r.latency.p99, p50: r.latency.p50, requests: r.requests.total, rps: r.requests.average, errors: r.errors, non2xx: r.non2xx }));
`;
const result = await new Promise<{ p99: number; p50: number; requests: number; rps: number; errors: number; non2xx: number }>(
  (resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', driver], {
      cwd: new URL('../../', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? ''));
      } catch (err) {
        reject(new Error(`autocannon output not understood: ${out.slice(0, 200)}`, { cause: err }));
      }
    });
  },
);
await server.stop();
await actuator.stop();
await queue.stop();
const bad = result.errors + result.non2xx;
console.log(
  `api: ${result.requests} requests in ${seconds} s (${result.rps.toFixed(0)} req/s, ${bad} errors/non-2xx); p50 ${result.p50} ms, ` +
    `p99 ${result.p99} ms (target ≤ 20 ms at ${rate} req/s, ratio ${(20 / Math.max(result.p99, 0.1)).toFixed(2)})`,
);
if (bad > 0) process.exitCode = 1;

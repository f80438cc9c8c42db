/**
 * `npx tsx test/functional/console/dev-server.ts`: the console on a seeded chDB store, a fake actuator
 * and the emulated routers, for working on the page without the whole demo loop. Prints the URL.
 */
import { randomBytes } from 'node:crypto';
import { TokenAuthenticator } from '../../../core/http/auth.ts';
import { createHttpServer } from '../../../core/http/server.ts';
import { createVyosLabForTopology } from '../../../lab/vyos/index.ts';
import { consoleRoutes } from '../../../app/console/routes.ts';
import { applyOverHttp, fakeActuator, sampleProposal, seededShared } from './support.ts';

const now = Math.floor(Date.now() / 60_000) * 60_000;
const env = { PATHPILOT_VYOS_KEY: randomBytes(18).toString('base64url') };
const shared = await seededShared(now, env, process.env.EMPTY !== '1');
const lab = await createVyosLabForTopology(shared.topology, { clock: shared.clock, env });
const proposals =
  process.env.EMPTY === '1'
    ? []
    : [
        sampleProposal(shared.topology, 'p-20260105-0930-cost', now - 20 * 60_000),
        sampleProposal(shared.topology, 'p-20260105-0815-nyc', now - 90 * 60_000, ['onprem-nyc', 'aws-euc1']),
      ];
if (proposals[1]) proposals[1].status = 'confirmed';
const actuator = fakeActuator(shared.clock, proposals, applyOverHttp(shared.topology, lab, env));
if (proposals[1])
  actuator.log.push(
    { time: now - 85 * 60_000, proposal_id: proposals[1]!.id, event: 'approved', actor: 'alice' },
    { time: now - 84 * 60_000, proposal_id: proposals[1]!.id, event: 'applied', router: 'onprem-nyc' },
    { time: now - 70 * 60_000, proposal_id: proposals[1]!.id, event: 'guard-pass', router: 'onprem-nyc' },
    { time: now - 60 * 60_000, proposal_id: proposals[1]!.id, event: 'confirmed' },
  );
const token = randomBytes(18).toString('base64url');
const auth = TokenAuthenticator.fromSpec(`approver:alice:${token}`);
const server = createHttpServer({ registry: shared.registry, auth }, { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, [
  consoleRoutes({ shared, actuator, lab }),
]);
await server.start();
console.log(`${server.url()}/#token=${token}`);

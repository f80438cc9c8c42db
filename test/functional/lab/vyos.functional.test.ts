/**
 * The RouterApi conformance suite over real HTTP: against the lab emulator (1.4 over plain HTTP with
 * JSON bodies; 1.5 over HTTPS with a pinned self-signed certificate and multipart bodies), always;
 * and against a real VyOS router when `VYOS_URL` and `VYOS_KEY` are set (`VYOS_VERSION` = 1.4 or 1.5,
 * `VYOS_TLS_VERIFY=0` for a self-signed certificate). Without those variables the real-router
 * describe block is simply not registered: nothing is skipped, it does not exist in that run.
 */
import { Agent } from 'undici';
import { SimulatedClock } from '../../../core/clock.ts';
import { VyosClient } from '../../../actuator/vyos/index.ts';
import { createVyosLab } from '../../../lab/vyos/index.ts';
import { routerApiConformance, pinnedDispatcher, type RouterApiFixture } from '../../conformance/router-api.ts';

async function emulatorFixture(
  version: '1.4' | '1.5',
  tls: boolean,
  encoding: 'json' | 'multipart' | 'urlencoded',
  image?: string,
): Promise<RouterApiFixture> {
  const clock = new SimulatedClock();
  const key = `key-${version}-${Math.random().toString(36).slice(2)}`;
  const lab = await createVyosLab({
    routers: [{ name: `r${version}`, version, apiKey: key, ...(image ? { image } : {}) }],
    clock,
    tls,
  });
  const url = lab.urls[`r${version}`]!;
  const make = (k: string) =>
    new VyosClient({ url, apiKey: k, version, encoding, ...(lab.certificatePem ? { ca: lab.certificatePem } : {}) });
  const api = make(key);
  const dispatcher = lab.certificatePem ? pinnedDispatcher(lab.certificatePem) : undefined;
  return {
    api,
    version,
    http: { url, key, ...(dispatcher ? { dispatcher } : {}) },
    clientWithKey: make,
    advanceMinutes: (m) => clock.advance(m * 60_000),
    close: async () => {
      await api.close();
      await lab.stop();
    },
  };
}

routerApiConformance('emulator 1.4, HTTP, JSON bodies', () => emulatorFixture('1.4', false, 'json'), {
  version: '1.4',
  movesClock: true,
});
routerApiConformance('emulator 1.5, HTTPS, multipart bodies', () => emulatorFixture('1.5', true, 'multipart'), {
  version: '1.5',
  movesClock: true,
});
routerApiConformance('emulator 1.5, HTTP, urlencoded bodies', () => emulatorFixture('1.5', false, 'urlencoded'), {
  version: '1.5',
  movesClock: true,
  image: '1.5-rolling-202506020019',
});
// A 1.5 image from before June 2025: no commit-confirm over the API, no /info (vyos-facts §1.6, §5.5).
routerApiConformance(
  'emulator 1.5 image 202410220018 (no commit-confirm), HTTP, JSON bodies',
  () => emulatorFixture('1.5', false, 'json', '1.5-rolling-202410220018'),
  { version: '1.5', movesClock: true, commitConfirm: false, image: '1.5-rolling-202410220018' },
);

const realUrl = process.env.VYOS_URL;
const realKey = process.env.VYOS_KEY;
if (realUrl && realKey) {
  const version = process.env.VYOS_VERSION === '1.5' ? '1.5' : '1.4';
  const tlsVerify = process.env.VYOS_TLS_VERIFY !== '0';
  routerApiConformance(
    `real VyOS ${version} at ${realUrl}`,
    async () => {
      const make = (k: string) => new VyosClient({ url: realUrl, apiKey: k, version, tlsVerify, timeoutMs: 30_000 });
      const api = make(realKey);
      return {
        api,
        version,
        http: { url: realUrl, key: realKey, dispatcher: new Agent({ connect: { rejectUnauthorized: tlsVerify } }) },
        clientWithKey: make,
        close: () => api.close(),
      };
    },
    { version, movesClock: false },
  );
}

import { afterAll } from 'vitest';
import { RedisStateStore } from '../../../actuator/state.ts';
import { stateStoreConformance } from '../../conformance/state-store.ts';
import { requireService, uniqueName } from '../../support/services.ts';

const prefix = uniqueName('pp_state');

stateStoreConformance('redis', async () => {
  const s = new RedisStateStore(requireService('redis'), prefix);
  await s.start();
  return s;
});

afterAll(async () => {
  const s = new RedisStateStore(requireService('redis'), prefix);
  await s.start();
  await s.clear();
  await s.stop();
});

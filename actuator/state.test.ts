import { stateStoreConformance } from '../test/conformance/state-store.ts';
import { MemoryStateStore } from './state.ts';

// One instance is one backend: every "process" of the suite shares it, as Redis clients share a server.
const store = new MemoryStateStore();
stateStoreConformance('memory', async () => store);

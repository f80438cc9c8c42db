// Worker threads start without the parent's TypeScript loader: register tsx (resolved from this
// file, so it works from any working directory), then load the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

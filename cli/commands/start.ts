import { isExit, parseCommand } from '../args.ts';
import type { Component } from '../../core/component.ts';
import type { RoutePlugin } from '../../core/http/server.ts';
import { adapterComponents, adaptersFor, createShared, parseRoles, runUntilSignal } from '../../app/runtime.ts';
import { buildIngest } from '../../app/ingest-role.ts';
import { loadCheckedConfig } from '../config-check.ts';

export const summary =
  'run roles against real routers and services: start [ingest] [sink] [optimizer] [actuator] [api] (-c FILE, --check, --host, --port)';

const usage = `usage: pathpilot start <role…> [-c FILE] [--check] [--host ADDR] [--port N]

Runs the given roles in one process against the configured services and routers until
SIGINT/SIGTERM. Roles: ingest, sink, optimizer, actuator, api.

  --check            validate the whole configuration and build the roles, then exit
  --host ADDR        API listen address (default 127.0.0.1)
  --port N           API port (default 8080)
  -c, --config FILE  pathpilot.yaml (default ./pathpilot.yaml, else the bundled example)
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {
    name: 'pathpilot start',
    usage,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      check: { type: 'boolean' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  if (isExit(parsed)) return parsed.exit;
  const { values, positionals } = parsed;
  const roles = parseRoles(positionals);
  // Every section is validated up front, including those of roles not started here.
  // Only the adapters (and their client libraries) the roles use: docs/notes/ingest-flow.md, "Memory".
  const shared = await createShared({ config: loadCheckedConfig(values.config), adapters: adaptersFor(roles) });
  const components: Component[] = [...adapterComponents(shared)];
  const plugins: RoutePlugin[] = [];
  // The other roles' modules load only when asked for: an ingest-only process stays small (docs/notes/ingest-flow.md).
  if (roles.includes('sink')) components.push((await import('../../app/roles.ts')).buildSink(shared));
  if (roles.includes('ingest')) components.push(...buildIngest(shared).components);
  const actuator = roles.includes('actuator')
    ? (await import('../../app/actuator-role.ts')).buildActuatorRole(shared, {})
    : undefined;
  if (actuator) {
    components.push(...actuator.components);
    plugins.push(actuator.routes);
  }
  if (roles.includes('optimizer')) {
    const { buildOptimizer, optimizerRoutesFor } = await import('../../app/roles.ts');
    const role = buildOptimizer(shared, actuator ? { currentWeights: () => actuator.currentWeights() } : {});
    components.push(role.optimizer);
    plugins.push(optimizerRoutesFor(shared, role));
  }
  if (roles.includes('api')) {
    const { adapterHealth, apiAuthenticator, createApi } = await import('../../app/api.ts');
    const { auth, generated } = apiAuthenticator(shared.env, shared.config.root.api, shared.log.child({ component: 'api' }));
    if (generated) process.stderr.write(`pathpilot: PATHPILOT_API_TOKENS is unset; admin token for this run: ${generated}\n`);
    components.push(
      createApi(shared, auth, { host: values.host!, port: Number(values.port), health: adapterHealth(shared), plugins }),
    );
  }
  if (values.check) {
    process.stdout.write(
      `configuration ok; roles: ${roles.join(', ')}; components: ${components.map((c) => c.name).join(', ')}\n`,
    );
    return 0;
  }
  shared.log.info({ roles }, 'starting');
  // Non-zero when a background loop died: the supervisor stopped every component first.
  return runUntilSignal(components, shared.log, shared.supervisor);
}

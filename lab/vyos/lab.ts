/**
 * `createVyosLab`: starts one emulated router per spec, each on its own HTTP(S) server on an
 * ephemeral loopback port, all sharing the lab clock (commit-confirm expiry follows it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock, type Clock } from '../../core/clock.ts';
import { z } from 'zod';
import { memoizeStop, parseSection, type Component } from '../../core/component.ts';
import { ConfigError } from '../../core/errors.ts';
import type { Topology } from '../../core/config/topology.ts';
import { initialRouterConfig } from './seed.ts';
import { imageFeatures } from './image.ts';
import { EmulatedRouter } from './router.ts';
import { startRouterServer, type RouterServer } from './server.ts';
import type { ConfigJson, VyosLab, VyosLabOptions, VyosRouterHandle } from './types.ts';
import { bgpRibs } from './bgp.ts';

/** A self-signed certificate for 127.0.0.1/localhost made with the `openssl` binary (~50 ms). */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pp-vyos-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-subj', '/CN=vyos-emulator', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], // prettier-ignore
      { stdio: 'ignore', timeout: 10_000 },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts one emulated router per spec on 127.0.0.1 ephemeral ports and returns their URLs. */
export async function createVyosLab(options: VyosLabOptions): Promise<VyosLab> {
  const clock = options.clock ?? new RealClock();
  const host = options.host ?? '127.0.0.1';
  const names = new Set<string>();
  for (const spec of options.routers) {
    if (names.has(spec.name)) throw new Error(`createVyosLab: duplicate router name "${spec.name}"`);
    if (!spec.apiKey) throw new Error(`createVyosLab: router "${spec.name}" needs an apiKey`);
    if (spec.version !== '1.4' && spec.version !== '1.5')
      throw new Error(`createVyosLab: router "${spec.name}" has unsupported version "${String(spec.version)}"`);
    try {
      imageFeatures(spec.version, spec.image);
    } catch (err) {
      throw new Error(`createVyosLab: router "${spec.name}": ${(err as Error).message}`);
    }
    names.add(spec.name);
  }
  // Build every router first (validates the seeds) before opening any socket.
  const routers = options.routers.map((spec) => new EmulatedRouter(spec, clock));
  const tls = options.tls ? selfSignedCertificate() : undefined;
  const servers: RouterServer[] = [];
  try {
    for (const r of routers) {
      const s = await startRouterServer(r, { host, tls });
      r.url = s.url;
      servers.push(s);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  const map = new Map<string, VyosRouterHandle>(routers.map((r) => [r.name, r]));
  // BGP runs between the lab's routers: each `show ip bgp` reads the RIB of their running configs now.
  for (const r of routers)
    r.setBgpRib(() => bgpRibs(new Map(routers.map((x) => [x.name, x.showConfig([]) as ConfigJson]))).get(r.name));
  let stopping: Promise<void> | undefined;
  return {
    routers: map,
    router(name: string) {
      const r = map.get(name);
      if (!r) throw new Error(`unknown emulated router "${name}"`);
      return r;
    },
    urls: Object.fromEntries(routers.map((r) => [r.name, r.url])),
    ...(tls ? { certificatePem: tls.cert } : {}),
    stop() {
      stopping ??= (async () => {
        for (const r of routers) r.close();
        await Promise.all(servers.map((s) => s.close()));
      })();
      return stopping;
    },
  };
}

export interface TopologyLabOptions {
  clock?: Clock;
  tls?: boolean;
  /** The key every router accepts; default: read from each site's `router.api_key_env` in `env`. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  /** Only these sites (default: every site of the topology). */
  sites?: string[];
  /** The image per site (`VyosRouterSpec.image`); a site not named runs its version's default image. */
  images?: Record<string, string>;
  /** Ms each router's API restarts after a `service https` commit (`VyosRouterSpec.apiRestartMs`); default 0. */
  apiRestartMs?: number;
}

/**
 * One emulated router per site of the topology, each seeded with `initialRouterConfig` and running
 * the site's `router.vyos_version`. Fails naming the variable when a site's key env var is unset.
 */
export async function createVyosLabForTopology(topology: Topology, options: TopologyLabOptions = {}): Promise<VyosLab> {
  const env = options.env ?? process.env;
  const sites = options.sites ?? [...topology.sites.keys()];
  const routers = sites.map((id) => {
    const site = topology.site(id);
    const apiKey = options.apiKey ?? env[site.router.api_key_env];
    if (!apiKey) throw new Error(`site "${id}": environment variable ${site.router.api_key_env} (router.api_key_env) is unset`);
    const image = options.images?.[id];
    return {
      name: id,
      version: site.router.vyos_version,
      apiKey,
      seed: initialRouterConfig(topology, id, apiKey),
      ...(image ? { image } : {}),
      ...(options.apiRestartMs ? { apiRestartMs: options.apiRestartMs } : {}),
    };
  });
  return createVyosLab({ routers, ...(options.clock ? { clock: options.clock } : {}), ...(options.tls ? { tls: true } : {}) });
}

/** The lab's own section (`lab.vyos`): which sites get an emulated router, and whether it speaks HTTPS. */
export const vyosLabConfigSchema = z
  .object({
    /** Only these sites (default: every site of the topology). */
    sites: z.array(z.string().min(1)).optional(),
    /** Serve HTTPS with a self-signed certificate (made with `openssl` at start). */
    tls: z.boolean().default(false),
    /**
     * The image a site's router runs (e.g. `1.5-rolling-202410220018`, a 1.5 build that ignores
     * `confirm_time`); sites not named run their version's default image.
     */
    images: z.record(z.string(), z.string().min(1)).optional(),
    /**
     * How long (ms) a router's API answers 502 after a commit that changed `service https`, as the real API
     * server restarts (`VyosRouterSpec.apiRestartMs`).
     */
    api_restart_ms: z.number().int().min(0).default(1000),
  })
  .strict();

export interface VyosLabDeps {
  topology: Topology;
  clock?: Clock;
  /** Where each site's `router.api_key_env` is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The key every router accepts instead (tests). */
  apiKey?: string;
}

export type VyosLabComponent = Component & { readonly lab: VyosLab };

/**
 * The lab as a `Component` (core/component.ts): `create` parses `lab.vyos` and checks every site and
 * its key variable (ConfigError), `start()` opens the servers, `stop()` is idempotent. `lab` is
 * available after `start()`. The older form takes the function that starts the lab.
 */
export function createVyosLabComponent(deps: VyosLabDeps | (() => Promise<VyosLab>), input: unknown = {}): VyosLabComponent {
  if (typeof deps === 'function') return labComponent(deps);
  const config = parseSection(vyosLabConfigSchema, input, 'lab.vyos');
  const env = deps.env ?? process.env;
  const sites = config.sites ?? [...deps.topology.sites.keys()];
  const problems: string[] = [];
  for (const id of sites) {
    const site = deps.topology.sites.get(id);
    if (!site) problems.push(`lab.vyos.sites: unknown site "${id}"`);
    else if (config.images?.[id]) {
      try {
        imageFeatures(site.router.vyos_version, config.images[id]);
      } catch (err) {
        problems.push(`lab.vyos.images.${id}: ${(err as Error).message}`);
      }
    } else if (!deps.apiKey && !env[site.router.api_key_env])
      problems.push(`sites.${id}.router.api_key_env: environment variable ${site.router.api_key_env} is unset`);
  }
  for (const id of Object.keys(config.images ?? {}))
    if (!deps.topology.sites.has(id)) problems.push(`lab.vyos.images: unknown site "${id}"`);
  if (problems.length > 0) throw new ConfigError(problems);
  return labComponent(() =>
    createVyosLabForTopology(deps.topology, {
      sites,
      env,
      ...(deps.apiKey ? { apiKey: deps.apiKey } : {}),
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(config.tls ? { tls: true } : {}),
      ...(config.images ? { images: config.images } : {}),
      apiRestartMs: config.api_restart_ms,
    }),
  );
}

function labComponent(start: () => Promise<VyosLab>): VyosLabComponent {
  let lab: VyosLab | undefined;
  return {
    name: 'lab/vyos',
    get lab(): VyosLab {
      if (!lab) throw new Error('lab/vyos: not started');
      return lab;
    },
    async start() {
      lab ??= await start();
    },
    ready: async () => (lab ? { ok: true } : { ok: false, detail: 'routers not listening' }),
    stop: memoizeStop(async () => {
      await lab?.stop();
    }),
  };
}

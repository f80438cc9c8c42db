/**
 * The web console as one fastify plugin: the static page (native ES modules by panel, inline SVG
 * charts, no build step) and the JSON it polls. The page and its assets are public; every
 * `/console/api/*` call needs a bearer token (viewer to read, approver to approve or reject). The demo
 * prints the page URL with the token in the fragment (`/#token=…`), which never reaches the server or
 * its logs. `createApi` mounts it for `pathpilot start … api` and the demo alike: with the actuator
 * role in the process it lists and decides through it; without, it reads proposals and the audit trail
 * from the store (storeAudit) and decisions answer 503.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutePlugin } from '../../core/http/server.ts';
import { requireRole } from '../../core/http/auth.ts';
import { ValidationError } from '../../core/errors.ts';
import type { VyosLab } from '../../lab/vyos/index.ts';
import type { Proposal } from '../../core/proposal.ts';
import { DailyCost, QualityBuckets, costView, overview, pathStatuses, qualitySeries } from './data.ts';
import { storeAudit } from './audit.ts';
import type { ConsoleActuator, ConsoleShared } from './types.ts';

export type { ConsoleActuator, ConsoleEvent, ConsoleShared } from './types.ts';

export interface ConsoleDeps {
  shared: ConsoleShared;
  /** The actuator role of this process; without one the console reads the audit trail from the store. */
  actuator?: ConsoleActuator | undefined;
  lab?: VyosLab | undefined;
}

const staticDir = join(dirname(fileURLToPath(import.meta.url)), 'static');

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The only files served: the static folder's scripts, styles and icons (not index.html, which is
 * served at `/`), name → content type. Listed and read once when the plugin is built.
 */
function staticAssets(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(staticDir).sort()) {
    const type = contentTypes[name.slice(name.lastIndexOf('.'))];
    if (type) files.set(name, { type, body: readFileSync(join(staticDir, name)) });
  }
  return files;
}

const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const minute = 60_000;

const qualityQuery = z
  .object({
    pair: z
      .string()
      .regex(/^[^>]+>[^>]+$/, 'pair must look like "src>dst"')
      .optional(),
    class: z.string().min(1).optional(),
    minutes: z.coerce
      .number()
      .int()
      .min(15)
      .max(24 * 60)
      .default(120),
    step: z.coerce.number().int().min(1).max(60).default(5),
  })
  .strict();

const eventsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict();
const idParams = z.object({ id: z.string().min(1).max(200) });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid ${what}: ${msg}`);
  }
  return r.data;
}

const pendingStatuses = new Set(['proposed', 'awaiting-approval']);

/** Awaiting a decision first, then newest first. */
export function orderProposals(list: readonly Proposal[]): (Proposal & { actionable: boolean })[] {
  return list
    .map((p) => ({ ...p, actionable: pendingStatuses.has(p.status) }))
    .sort((a, b) => Number(b.actionable) - Number(a.actionable) || b.created_at - a.created_at || a.id.localeCompare(b.id));
}

export function consoleRoutes(deps: ConsoleDeps): RoutePlugin {
  const { shared, lab } = deps;
  const actuator = deps.actuator ?? storeAudit(shared.store);
  const decides = actuator.decides !== false;
  const files = staticAssets();
  const page = readFileSync(join(staticDir, 'index.html'));
  const buckets = new QualityBuckets(shared.store);
  const daily = new DailyCost(shared.store);
  /** The pair and class shown when the page asks for none: those of the worst path right now. */
  let worst: { pair: [string, string]; class: string } | undefined;

  return (app, httpDeps) => {
    const viewer = requireRole(httpDeps.auth, 'viewer');
    const approver = requireRole(httpDeps.auth, 'approver');

    app.get('/', async (_req, reply) => {
      return reply
        .headers({ ...securityHeaders, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .send(page);
    });

    app.get('/console/static/:file', async (req: FastifyRequest<{ Params: { file: string } }>, reply: FastifyReply) => {
      const name = req.params.file;
      const asset = files.get(name);
      if (!asset) return reply.code(404).send({ error: `no such asset: ${name}`, code: 'PP_ERR_NOT_FOUND' });
      return reply.headers({ ...securityHeaders, 'content-type': asset.type, 'cache-control': 'no-cache' }).send(asset.body);
    });

    app.get('/console/api/whoami', { preHandler: viewer }, async (req) => {
      return { name: req.principal!.name, role: req.principal!.role };
    });

    app.get('/console/api/overview', { preHandler: viewer }, async () => {
      const now = shared.clock.now();
      const view = await overview(shared.store, shared.topology, shared.config.root, now, lab);
      const first = view.paths[0];
      if (first && first.status !== 'unknown') worst = { pair: [first.src_site, first.dst_site], class: first.class };
      return { ...view, counts: await actuator.counts() };
    });

    app.get('/console/api/quality', { preHandler: viewer }, async (req) => {
      const q = parse(qualityQuery, req.query, 'query');
      let pair: [string, string] | undefined;
      if (q.pair) {
        const [src, dst] = q.pair.split('>') as [string, string];
        if (!shared.topology.sites.has(src) || !shared.topology.sites.has(dst))
          throw new ValidationError(`invalid query: pair "${q.pair}" names an unknown site`);
        pair = [src, dst];
      }
      if (q.class && !shared.topology.classes.has(q.class))
        throw new ValidationError(
          `invalid query: unknown class "${q.class}" (classes: ${[...shared.topology.classes.keys()].join(', ')})`,
        );
      if (!pair && !worst) {
        const now = shared.clock.now();
        const first = (await pathStatuses(shared.store, shared.topology, { from: now - 15 * minute, to: now })).find(
          (p) => p.status !== 'unknown',
        );
        if (first) worst = { pair: [first.src_site, first.dst_site], class: first.class };
      }
      const windowMs = q.minutes * minute;
      const stepMs = q.step * minute;
      if (windowMs / stepMs > 200) throw new ValidationError('invalid query: minutes/step may not exceed 200 buckets');
      return qualitySeries(
        buckets,
        shared.topology,
        shared.clock.now(),
        { ...(pair ? { pair } : {}), ...(q.class ? { class: q.class } : {}), windowMs, stepMs },
        () => worst,
      );
    });

    app.get('/console/api/tunnels', { preHandler: viewer }, async () => {
      // Only the process running the actuator watches tunnels; elsewhere the panel says so.
      const view = actuator.tunnels?.();
      return view ? { available: true, now: shared.clock.now(), ...view } : { available: false, now: shared.clock.now() };
    });

    app.get('/console/api/compliance', { preHandler: viewer }, async () => {
      const view = actuator.compliance?.();
      return view ? { available: true, now: shared.clock.now(), ...view } : { available: false, now: shared.clock.now() };
    });

    app.get('/console/api/faults', { preHandler: viewer }, async () => {
      const view = actuator.faults?.();
      return view ? { available: true, now: shared.clock.now(), ...view } : { available: false, now: shared.clock.now() };
    });

    app.get('/console/api/proposals', { preHandler: viewer }, async () => {
      // `decides` false: the actuator runs elsewhere, so the page shows pending proposals without buttons.
      const { mode, emergency_auto } = shared.config.root.actuator;
      return {
        now: shared.clock.now(),
        decides,
        // What happens to a proposal here: the page explains the mode and the emergency policy.
        policy: { mode, emergency_auto },
        proposals: orderProposals(await actuator.list()),
      };
    });

    app.get('/console/api/events', { preHandler: viewer }, async (req) => {
      const q = parse(eventsQuery, req.query, 'query');
      return { now: shared.clock.now(), events: await actuator.events(q.limit) };
    });

    app.get('/console/api/cost', { preHandler: viewer }, async () => {
      return costView(shared.store, daily, shared.config.root, shared.clock.now());
    });

    for (const action of ['approve', 'reject'] as const) {
      app.post(`/console/api/proposals/:id/${action}`, { preHandler: approver }, async (req) => {
        const { id } = parse(idParams, req.params, 'proposal id');
        const actor = req.principal!.name;
        if (action === 'approve') await actuator.approve(id, actor);
        else await actuator.reject(id, actor);
        shared.log.info({ proposal: id, actor, action }, 'console decision');
        const proposal = (await actuator.list()).find((p) => p.id === id);
        return { ok: true, id, action, status: proposal?.status ?? null };
      });
    }
  };
}

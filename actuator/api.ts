/**
 * REST API of the actuator (a core/http RoutePlugin) and Slack's interactivity endpoint.
 * viewer: list/read proposals and changes; approver: approve/reject; admin: submit proposals, roll back a
 * failed or drifted rollout, or accept a drifted one (`…/accept-drift`: the routers stay as they are).
 * `POST /slack/interactions` is authenticated by Slack's signature instead of a bearer token, used
 * once (replay cache), and the clicking Slack user must map to the approver role (slack-access.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { roleAllows, requireRole, type Role } from '../core/http/auth.ts';
import { MemoryReplayCache, type ReplayCache } from '../core/http/replay.ts';
import type { RoutePlugin } from '../core/http/server.ts';
import type { Logger } from '../core/log.ts';
import type { ProposalInput } from '../core/proposal.ts';
import { redactSecrets } from '../core/redact.ts';
import type { Actuator } from './types.ts';
import { SlackRoleMap } from './slack-access.ts';
import { parseInteraction, postSlack, slackWindowS, verifySlackSignature } from './slack.ts';

export interface ActuatorRoutesOptions {
  /** Overrides the secret the actuator read from the environment (tests). */
  slackSigningSecret?: string;
  /** Wall-clock for the Slack 5-minute window and the replay cache. */
  now?: () => number;
  /** Slack user → role; without one every Slack decision is refused (nobody is mapped). */
  slackRoles?: SlackRoleMap;
  /**
   * Signed Slack requests already acted on. Default: one process's memory; give every API process
   * the same RedisReplayCache when several run behind a load balancer. Closed with the server.
   */
  replay?: ReplayCache;
  log?: Logger;
}

/** How far ahead of the actuator's clock an admin-submitted proposal may be dated (clock skew). */
export const proposalFutureSkewMs = 5 * 60_000;

/**
 * Why a proposal's `created_at` is not acceptable now, or undefined. A date far ahead would never
 * expire (expiry counts from created_at); one already past its TTL would expire on arrival.
 */
export function proposalTimeProblem(
  createdAt: unknown,
  now: number,
  expiresAt: (createdAt: number) => number,
): string | undefined {
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return undefined; // the proposal schema reports it
  if (createdAt > now + proposalFutureSkewMs)
    return `created_at ${new Date(createdAt).toISOString()} is more than ${proposalFutureSkewMs / 60_000} minutes ahead of the actuator's clock (${new Date(now).toISOString()})`;
  if (expiresAt(createdAt) <= now)
    return `created_at ${new Date(createdAt).toISOString()} is older than the proposal TTL: it would expire on arrival`;
  return undefined;
}

function summary(rec: Awaited<ReturnType<Actuator['list']>>[number]) {
  return {
    id: rec.proposal.id,
    kind: rec.proposal.kind,
    status: rec.proposal.status,
    risk: rec.proposal.risk,
    emergency: rec.proposal.emergency,
    reason: rec.proposal.reason,
    created_at: rec.proposal.created_at,
    decided_by: rec.decidedBy ?? null,
    error: rec.error ?? null,
    step: rec.rollout ? { index: rec.rollout.step, of: rec.rollout.steps.length, phase: rec.rollout.phase } : null,
    // Predicted and measured effect side by side: the list is where users check the optimizer's promises.
    predicted: rec.proposal.predicted,
    realized: rec.proposal.realized ?? null,
    // What the actuator found before anyone decides: what the change re-routes, cuts or opens.
    assessment: rec.proposal.assessment ?? null,
  };
}

export function actuatorRoutes(actuator: Actuator, options: ActuatorRoutesOptions = {}): RoutePlugin {
  return (app: FastifyInstance, deps) => {
    const viewer = requireRole(deps.auth, 'viewer');
    const approver = requireRole(deps.auth, 'approver');
    const admin = requireRole(deps.auth, 'admin');
    const idParams = {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
    } as const;
    const noteBody = { type: ['object', 'null'], properties: { note: { type: 'string', maxLength: 500 } } } as const;

    // The list is rebuilt only when a record changed or the next undecided proposal expires.
    let cache: { revision: number; validUntil: number; body: string } | undefined;
    app.get('/api/v1/proposals', { onRequest: viewer }, async (_req, reply) => {
      const svc = actuator.service;
      if (!cache || cache.revision !== svc.revision || svc.now() >= cache.validUntil) {
        const all = await actuator.list();
        const pending = all.filter((r) => r.proposal.status === 'proposed' || r.proposal.status === 'awaiting-approval');
        cache = {
          revision: svc.revision,
          validUntil: Math.min(Infinity, ...pending.map((r) => svc.expiresAt(r.proposal.created_at))),
          body: JSON.stringify({ proposals: all.map(summary) }),
        };
      }
      return reply.header('content-type', 'application/json; charset=utf-8').send(cache.body);
    });
    app.get<{ Params: { id: string } }>(
      '/api/v1/proposals/:id',
      { onRequest: viewer, schema: { params: idParams } },
      async (req, reply) => {
        const rec = await actuator.get(req.params.id);
        if (!rec) return reply.code(404).send({ error: `no proposal ${req.params.id}`, code: 'PP_ERR_NOT_FOUND' });
        // PSKs in intents and private keys in the rollout's router snapshots stay on the actuator.
        return { ...summary(rec), proposal: redactSecrets(rec.proposal), rollout: redactSecrets(rec.rollout ?? null) };
      },
    );
    app.post<{ Body: ProposalInput }>('/api/v1/proposals', { onRequest: admin }, async (req, reply) => {
      const svc = actuator.service;
      const problem = proposalTimeProblem((req.body as { created_at?: unknown } | null)?.created_at, svc.now(), (t) =>
        svc.expiresAt(t),
      );
      if (problem) return reply.code(400).send({ error: `invalid proposal: ${problem}`, code: 'PP_ERR_VALIDATION' });
      const rec = await actuator.submit(req.body, `api:${req.principal!.name}`);
      return reply.code(201).send(summary(rec));
    });
    for (const action of ['approve', 'reject'] as const) {
      app.post<{ Params: { id: string }; Body: { note?: string } | null }>(
        `/api/v1/proposals/:id/${action}`,
        { onRequest: approver, schema: { params: idParams, body: noteBody } },
        async (req) => {
          const actor = `api:${req.principal!.name}`;
          const note = req.body?.note;
          const rec =
            action === 'approve'
              ? await actuator.approve(req.params.id, actor, note)
              : await actuator.reject(req.params.id, actor, note);
          return summary(rec);
        },
      );
    }
    app.post<{ Params: { id: string } }>(
      '/api/v1/proposals/:id/rollback',
      { onRequest: admin, schema: { params: idParams } },
      async (req) => summary(await actuator.service.retryRollback(req.params.id, `api:${req.principal!.name}`)),
    );
    // A drifted proposal: the admin keeps the routers as they are (the other choice is the rollback above).
    app.post<{ Params: { id: string }; Body: { note?: string } | null }>(
      '/api/v1/proposals/:id/accept-drift',
      { onRequest: admin, schema: { params: idParams, body: noteBody } },
      async (req) => summary(await actuator.service.acceptDrift(req.params.id, `api:${req.principal!.name}`, req.body?.note)),
    );
    // Router API keys: ids and ages (never the keys); an admin rotates one now (add, switch, remove).
    app.get('/api/v1/router-keys', { onRequest: viewer }, async () => ({ routers: actuator.service.routerKeys() }));
    app.post<{ Params: { site: string } }>(
      '/api/v1/router-keys/:site/rotate',
      {
        onRequest: admin,
        schema: {
          params: { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 200 } } },
        },
      },
      async (req, reply) => {
        const site = req.params.site;
        if (!actuator.service.routerKeys().some((r) => r.router === site))
          return reply.code(404).send({ error: `no site ${site}`, code: 'PP_ERR_NOT_FOUND' });
        options.log?.info({ router: site, actor: `api:${req.principal!.name}` }, 'router API key rotation requested');
        const result = await actuator.service.rotateRouterKey(site).catch((err: unknown) => err as Error);
        if (result instanceof Error) return reply.code(409).send({ error: result.message, code: 'PP_ERR_CONFLICT' });
        return reply.code(result.outcome === 'rotated' || result.outcome === 'old-key-kept' ? 200 : 409).send(result);
      },
    );
    app.get<{ Querystring: { proposal?: string } }>('/api/v1/changes', { onRequest: viewer }, async (req) => {
      return { changes: actuator.changes(req.query.proposal) };
    });

    // Slack interactivity: the raw body is needed for the signature.
    const now = options.now ?? Date.now;
    const slackRoles = options.slackRoles ?? new SlackRoleMap();
    const replay = options.replay ?? new MemoryReplayCache(10_000, now);
    app.addHook('onClose', async () => replay.close());

    /**
     * A message only the clicking user sees: in the HTTP answer and through response_url
     * (replace_original false, so the proposal's buttons stay for someone who may decide).
     */
    const ephemeral = (reply: FastifyReply, responseUrl: string | undefined, text: string) => {
      const message = { response_type: 'ephemeral', replace_original: false, text: `pathpilot: ${text}` };
      if (responseUrl)
        void postSlack(responseUrl, message).catch((err: unknown) =>
          options.log?.warn({ err: (err as Error).message }, 'slack ephemeral reply failed'),
        );
      return reply.code(200).send(message);
    };

    app.register(async (scope) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      );
      scope.post('/slack/interactions', async (req, reply) => {
        const secret = options.slackSigningSecret ?? actuator.slackSigningSecret;
        if (!secret) return reply.code(503).send({ error: 'slack signing secret is not configured', code: 'PP_ERR_SERVICE' });
        const raw = typeof req.body === 'string' ? req.body : '';
        const timestamp = req.headers['x-slack-request-timestamp'] as string | undefined;
        const signature = req.headers['x-slack-signature'] as string | undefined;
        const v = verifySlackSignature(secret, { timestamp, signature }, raw, now());
        if (!v.ok) return reply.code(401).send({ error: `slack signature rejected: ${v.reason}`, code: 'PP_ERR_UNAUTHORIZED' });
        // The signature covers timestamp and body, so it names this request; after the window the
        // timestamp check refuses it, so the cache keeps it exactly that long.
        if (!(await replay.firstUse(`slack:${signature!}`, (Number(timestamp) + slackWindowS) * 1000)))
          return reply.code(409).send({ error: 'slack request already handled (replay refused)', code: 'PP_ERR_CONFLICT' });
        const interaction = parseInteraction(raw);
        if (!interaction)
          return reply.code(400).send({ error: 'not a pathpilot approve/reject interaction', code: 'PP_ERR_VALIDATION' });
        const { responseUrl } = interaction;
        let role: Role | undefined;
        try {
          role = interaction.userId ? await slackRoles.roleOf(interaction.userId) : undefined;
        } catch (err) {
          options.log?.warn({ err: (err as Error).message, user: interaction.userId }, 'slack role lookup failed');
          return ephemeral(
            reply,
            responseUrl,
            `could not check your Slack groups (${(err as Error).message}); nothing was decided`,
          );
        }
        if (!role || !roleAllows(role, 'approver')) {
          options.log?.warn(
            { user: interaction.userId, action: interaction.action, proposal: interaction.proposalId },
            'slack decision refused',
          );
          return ephemeral(
            reply,
            responseUrl,
            `you (${interaction.user}) may not ${interaction.action} proposals: ${role ? `role "${role}" needs "approver"` : 'your Slack user is mapped to no pathpilot role (slack.users / slack.user_groups)'}`,
          );
        }
        const actor = `slack:${interaction.user}`;
        const slack = responseUrl ? { responseUrl } : undefined;
        try {
          if (interaction.action === 'approve') await actuator.service.approve(interaction.proposalId, actor, undefined, slack);
          else await actuator.service.reject(interaction.proposalId, actor, undefined, slack);
        } catch (err) {
          return ephemeral(reply, responseUrl, (err as Error).message);
        }
        return reply.code(200).send();
      });
    });
  };
}

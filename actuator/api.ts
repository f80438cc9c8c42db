/**
 * REST API of the actuator (a core/http RoutePlugin) and Slack's interactivity endpoint.
 * viewer: list/read proposals and changes; approver: approve/reject; admin: submit proposals.
 * `POST /slack/interactions` is authenticated by Slack's signature instead of a bearer token.
 */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../core/http/auth.ts';
import type { RoutePlugin } from '../core/http/server.ts';
import type { ProposalInput } from '../core/proposal.ts';
import type { Actuator } from './types.ts';
import { parseInteraction, verifySlackSignature } from './slack.ts';

export interface ActuatorRoutesOptions {
  /** Overrides the secret the actuator read from the environment (tests). */
  slackSigningSecret?: string;
  /** Wall-clock for the Slack 5-minute window. */
  now?: () => number;
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
    app.get('/api/v1/proposals', { preHandler: viewer }, async (_req, reply) => {
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
      { preHandler: viewer, schema: { params: idParams } },
      async (req, reply) => {
        const rec = await actuator.get(req.params.id);
        if (!rec) return reply.code(404).send({ error: `no proposal ${req.params.id}`, code: 'PP_ERR_NOT_FOUND' });
        return { ...summary(rec), proposal: rec.proposal, rollout: rec.rollout ?? null };
      },
    );
    app.post<{ Body: ProposalInput }>('/api/v1/proposals', { preHandler: admin }, async (req, reply) => {
      const rec = await actuator.submit(req.body, `api:${req.principal!.name}`);
      return reply.code(201).send(summary(rec));
    });
    for (const action of ['approve', 'reject'] as const) {
      app.post<{ Params: { id: string }; Body: { note?: string } | null }>(
        `/api/v1/proposals/:id/${action}`,
        { preHandler: approver, schema: { params: idParams, body: noteBody } },
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
      { preHandler: admin, schema: { params: idParams } },
      async (req) => summary(await actuator.service.retryRollback(req.params.id, `api:${req.principal!.name}`)),
    );
    app.get<{ Querystring: { proposal?: string } }>('/api/v1/changes', { preHandler: viewer }, async (req) => {
      return { changes: actuator.changes(req.query.proposal) };
    });

    // Slack interactivity: the raw body is needed for the signature.
    app.register(async (scope) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      );
      scope.post('/slack/interactions', async (req, reply) => {
        const secret = options.slackSigningSecret ?? actuator.slackSigningSecret;
        if (!secret) return reply.code(503).send({ error: 'slack signing secret is not configured' });
        const raw = typeof req.body === 'string' ? req.body : '';
        const v = verifySlackSignature(
          secret,
          {
            timestamp: req.headers['x-slack-request-timestamp'] as string | undefined,
            signature: req.headers['x-slack-signature'] as string | undefined,
          },
          raw,
          (options.now ?? Date.now)(),
        );
        if (!v.ok) return reply.code(401).send({ error: `slack signature rejected: ${v.reason}`, code: 'PP_ERR_UNAUTHORIZED' });
        const interaction = parseInteraction(raw);
        if (!interaction) return reply.code(400).send({ error: 'not a pathpilot approve/reject interaction' });
        const actor = `slack:${interaction.user}`;
        const slack = interaction.responseUrl ? { responseUrl: interaction.responseUrl } : undefined;
        try {
          if (interaction.action === 'approve') await actuator.service.approve(interaction.proposalId, actor, undefined, slack);
          else await actuator.service.reject(interaction.proposalId, actor, undefined, slack);
        } catch (err) {
          return reply.code(200).send({ text: `pathpilot: ${(err as Error).message}`, response_type: 'ephemeral' });
        }
        return reply.code(200).send();
      });
    });
  };
}

/**
 * The audit trail: every step of a proposal as a `change` record, validated, kept in memory for the API
 * (bounded by `audit_memory`), emitted to the console and published to Kafka (the sink writes the
 * `changes` table). A failed publish is logged and counted; it never fails the change it describes.
 */
import { redactSecrets } from '../../core/redact.ts';
import type { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/errors.ts';
import {
  changeRecord,
  clipJson,
  encodeRecords,
  schemaHeader,
  schemaId,
  type ChangeEvent,
  type ChangeRecordT,
} from '../../core/records/index.ts';
import type { PipelineDeps } from './deps.ts';

export type AuditEvent = ChangeRecordT;

export interface AuditExtra {
  actor?: string;
  router?: string;
  step?: number;
  detail?: unknown;
}

export class AuditTrail {
  private readonly kept: AuditEvent[] = [];

  constructor(
    private readonly d: PipelineDeps,
    private readonly events: EventEmitter,
  ) {}

  async emit(proposalId: string, event: ChangeEvent, extra: AuditExtra = {}): Promise<void> {
    const rec: AuditEvent = {
      event_id: randomUUID(),
      time: this.d.clock.now(),
      proposal_id: proposalId,
      event,
      ...(extra.actor !== undefined ? { actor: extra.actor } : {}),
      ...(extra.router !== undefined ? { router: extra.router } : {}),
      ...(extra.step !== undefined ? { step: extra.step } : {}),
      // Ops and snapshots carry PSKs and private keys: never in an audit event (memory, console, Kafka).
      ...(extra.detail !== undefined ? { detail: clipJson(redactSecrets(extra.detail)) } : {}),
    };
    const checked = changeRecord.parse(rec);
    this.kept.push(checked);
    if (this.kept.length > this.d.config.audit_memory) this.kept.splice(0, this.kept.length - this.d.config.audit_memory);
    this.events.emit('change', checked);
    if (!this.d.bus) return;
    try {
      await this.d.bus.publish(changeRecord.topic, [
        { key: proposalId, value: encodeRecords([checked]), headers: { [schemaHeader]: schemaId(changeRecord) } },
      ]);
    } catch (err) {
      this.d.metrics.errors.inc({ error_type: 'audit_publish' });
      this.d.log?.error({ err: errorMessage(err), proposalId, event }, 'audit event not published');
    }
  }

  /** Audit events seen by this process, newest last (filter by proposal). */
  changes(proposalId?: string): AuditEvent[] {
    return proposalId ? this.kept.filter((e) => e.proposal_id === proposalId) : [...this.kept];
  }
}

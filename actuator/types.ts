/** The actuator component's public surface (kept apart from index.ts so api.ts can use it without a cycle). */
import type { Component } from '../core/component.ts';
import type { Leadership } from '../core/leader.ts';
import type { ProposalInput } from '../core/proposal.ts';
import type { CurrentWeights } from './current-weights.ts';
import type { ActuatorService, AuditEvent } from './service.ts';
import type { ProposalRecord } from './state.ts';

export interface Actuator extends Component {
  readonly service: ActuatorService;
  readonly events: ActuatorService['events'];
  /** This process's leadership of the actuator role (always leading with a memory state store). */
  readonly leadership: Leadership;
  submit(proposal: ProposalInput, actor?: string): Promise<ProposalRecord>;
  approve(id: string, actor: string, note?: string): Promise<ProposalRecord>;
  reject(id: string, actor: string, note?: string): Promise<ProposalRecord>;
  list(): Promise<ProposalRecord[]>;
  get(id: string): Promise<ProposalRecord | undefined>;
  changes(proposalId?: string): AuditEvent[];
  /** What the routers run now, as the optimizer's demand split (from the intents of confirmed proposals). */
  currentWeights(): Promise<CurrentWeights>;
  /** Slack signing secret (from the env var the root config names), if set. */
  readonly slackSigningSecret: string | undefined;
}

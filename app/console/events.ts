/** An audit record as the console lists it, from the in-process actuator or the `changes` table alike. */
import { errorMessage } from '../../core/errors.ts';
import type { ChangeRecordT } from '../../core/records/index.ts';
import type { ConsoleEvent } from './types.ts';

export function toConsoleEvent(e: ChangeRecordT): ConsoleEvent {
  return {
    time: e.time,
    proposal_id: e.proposal_id,
    event: e.event,
    ...(e.actor ? { actor: e.actor } : {}),
    ...(e.router ? { router: e.router } : {}),
    ...(e.detail ? { detail: parseDetail(e.detail) } : {}),
  };
}

/** The detail as JSON; text that is not (a record from elsewhere) is shown as it is, with the reason. */
function parseDetail(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return { unparsed: text, error: errorMessage(err) };
  }
}

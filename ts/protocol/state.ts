/**
 * The session state machine of spec §6.2, as one table.
 *
 * The spec's transitions (§6.2.3) are the rows marked "spec"; the rest make
 * the table complete for an implementation:
 * - the operations the spec lists as valid in ESTABLISHED (sending and
 *   receiving DATA, PING and PONG) keep the state;
 * - a CLOSE received while CLOSING (the peer's answer, or both ends closing
 *   at once) completes the close — the diagram's CLOSING → CLOSED arrow;
 * - losing the connection ends any live session (§6.6.2 "Connection lost").
 *
 * Every other (state, event) pair — and any event of the other role — is an
 * `INVALID_STATE` error. Protocol errors are `close` events (with reason
 * ERROR), as in the diagram's "close() or timeout or error" arrow.
 */
import { M2MError } from '../core/errors.js';
import type { Message } from './messages.js';

export const SESSION_STATES = ['INITIAL', 'HELLO_SENT', 'ESTABLISHED', 'CLOSING', 'CLOSED'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export type Role = 'client' | 'server';

export const SESSION_EVENTS = [
  'create_hello',
  'process_hello',
  'process_accept',
  'process_reject',
  'hello_timeout',
  'close',
  'receive_close',
  'timeout',
  'closing_timeout',
  'send_data',
  'receive_data',
  'send_ping',
  'receive_ping',
  'receive_pong',
  'receive_error',
  'connection_lost',
] as const;
export type SessionEvent = (typeof SESSION_EVENTS)[number];

/** One row of the table. */
export interface Transition {
  from: SessionState;
  event: SessionEvent;
  to: SessionState;
  /** Which role may take it. */
  roles: readonly Role[];
  /** True for the rows of spec §6.2.3. */
  spec: boolean;
}

const BOTH: readonly Role[] = ['client', 'server'];
const CLIENT: readonly Role[] = ['client'];
const SERVER: readonly Role[] = ['server'];

export const TRANSITIONS: readonly Transition[] = Object.freeze([
  { from: 'INITIAL', event: 'create_hello', to: 'HELLO_SENT', roles: CLIENT, spec: true },
  { from: 'INITIAL', event: 'process_hello', to: 'ESTABLISHED', roles: SERVER, spec: true },
  { from: 'HELLO_SENT', event: 'process_accept', to: 'ESTABLISHED', roles: CLIENT, spec: true },
  { from: 'HELLO_SENT', event: 'process_reject', to: 'CLOSED', roles: CLIENT, spec: true },
  { from: 'HELLO_SENT', event: 'hello_timeout', to: 'CLOSED', roles: CLIENT, spec: true },
  { from: 'ESTABLISHED', event: 'close', to: 'CLOSING', roles: BOTH, spec: true },
  { from: 'ESTABLISHED', event: 'receive_close', to: 'CLOSED', roles: BOTH, spec: true },
  { from: 'ESTABLISHED', event: 'timeout', to: 'CLOSED', roles: BOTH, spec: true },
  { from: 'CLOSING', event: 'closing_timeout', to: 'CLOSED', roles: BOTH, spec: true },
  { from: 'CLOSING', event: 'receive_close', to: 'CLOSED', roles: BOTH, spec: false },
  { from: 'ESTABLISHED', event: 'send_data', to: 'ESTABLISHED', roles: BOTH, spec: false },
  { from: 'ESTABLISHED', event: 'receive_data', to: 'ESTABLISHED', roles: BOTH, spec: false },
  { from: 'ESTABLISHED', event: 'send_ping', to: 'ESTABLISHED', roles: BOTH, spec: false },
  { from: 'ESTABLISHED', event: 'receive_ping', to: 'ESTABLISHED', roles: BOTH, spec: false },
  { from: 'ESTABLISHED', event: 'receive_pong', to: 'ESTABLISHED', roles: BOTH, spec: false },
  // ERROR (this implementation's refusal notice) changes nothing; only servers send it.
  { from: 'ESTABLISHED', event: 'receive_error', to: 'ESTABLISHED', roles: CLIENT, spec: false },
  { from: 'CLOSING', event: 'receive_error', to: 'CLOSING', roles: CLIENT, spec: false },
  { from: 'INITIAL', event: 'connection_lost', to: 'CLOSED', roles: BOTH, spec: false },
  { from: 'HELLO_SENT', event: 'connection_lost', to: 'CLOSED', roles: CLIENT, spec: false },
  { from: 'ESTABLISHED', event: 'connection_lost', to: 'CLOSED', roles: BOTH, spec: false },
  { from: 'CLOSING', event: 'connection_lost', to: 'CLOSED', roles: BOTH, spec: false },
] satisfies Transition[]);

const INDEX = new Map<string, Transition>(TRANSITIONS.map((t) => [`${t.from}/${t.event}`, t]));

/** The state after `event`, or undefined if the event is not allowed (for `role`) in `state`. */
export function nextState(role: Role, state: SessionState, event: SessionEvent): SessionState | undefined {
  const t = INDEX.get(`${state}/${event}`);
  return t?.roles.includes(role) ? t.to : undefined;
}

/**
 * The state after `event`.
 *
 * @throws M2MError `INVALID_STATE` if the event is not allowed there.
 */
export function transition(role: Role, state: SessionState, event: SessionEvent): SessionState {
  const to = nextState(role, state, event);
  if (to === undefined) {
    throw new M2MError('INVALID_STATE', `${event} is not valid for a ${role} session in state ${state}`);
  }
  return to;
}

/** A state holder that applies the table and reports each change. */
export class StateMachine {
  #state: SessionState = 'INITIAL';

  constructor(
    readonly role: Role,
    private readonly onChange?: (from: SessionState, to: SessionState, event: SessionEvent) => void,
  ) {}

  get state(): SessionState {
    return this.#state;
  }

  /** Whether `event` is allowed now. */
  can(event: SessionEvent): boolean {
    return nextState(this.role, this.#state, event) !== undefined;
  }

  /** Applies `event`. @throws M2MError `INVALID_STATE` */
  apply(event: SessionEvent): SessionState {
    const from = this.#state;
    const to = transition(this.role, from, event);
    this.#state = to;
    if (from !== to) this.onChange?.(from, to, event);
    return to;
  }

  /** Throws `INVALID_STATE` unless `event` is allowed now (does not change the state). */
  check(event: SessionEvent): void {
    transition(this.role, this.#state, event);
  }
}

/** Codes that end a live session (spec §6.8.2: invalid format, invalid session_id). */
export const FATAL_CODES: ReadonlySet<string> = new Set([
  'INVALID_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'SESSION_MISMATCH',
  'TIMESTAMP_SKEW',
]);

/** On the server a message for a session it no longer has (or lost with its store) ends that session too. */
export const SERVER_FATAL_CODES: ReadonlySet<string> = new Set([...FATAL_CODES, 'UNKNOWN_SESSION', 'SESSION_LOST']);

/** The state-table event for receiving a message of `type`. */
export function receiveEvent(type: Message['type']): SessionEvent {
  switch (type) {
    case 'HELLO':
      return 'process_hello';
    case 'ACCEPT':
      return 'process_accept';
    case 'REJECT':
      return 'process_reject';
    case 'DATA':
      return 'receive_data';
    case 'PING':
      return 'receive_ping';
    case 'PONG':
      return 'receive_pong';
    case 'CLOSE':
      return 'receive_close';
    case 'ERROR':
      return 'receive_error';
  }
}

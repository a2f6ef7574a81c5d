/**
 * The session protocol (spec §4 and §6) for Node: messages and validation,
 * the state machine, negotiation, the server (`SessionManager`, WebSocket
 * and fastify HTTP transports) and the client (`M2MClient`).
 *
 * Importing this module loads the Node entry of m2m (native or wasm
 * backend). In browsers, import `client.ts` (with `messages.ts` etc.) after
 * the wasm `init()`: those modules do not depend on Node.
 */
import '../../index.js';

export { httpStatusFor } from '../../core/errors.js';
export {
  BINARY_FRAME_DATA,
  decodeBinaryFrame,
  encodeBinaryFrame,
  MAX_BINARY_HEADER_BYTES,
} from '../../protocol/binary.js';
export {
  type DecodedData,
  decodeData,
  type EncodedData,
  encodeData,
  type Scanner,
  type ScannerThreat,
  type ScanResult,
  type SecurityOptions,
  type SendOptions,
} from '../../protocol/data.js';
export { generateSessionId, SESSION_ID_PATTERN } from '../../protocol/ids.js';
export * from '../../protocol/messages.js';
export {
  type ClientCapabilities,
  negotiate,
  negotiateEncoding,
  SESSION_DEFAULTS,
  SESSION_RANGES,
  type ServerCapabilities,
  type SessionParams,
} from '../../protocol/negotiate.js';
export {
  checkSequence,
  markSequence,
  PROOF_HEADER,
  type PreSharedKey,
  REPLAY_WINDOW,
  type ReplayWindow,
  type SealState,
  type SessionSecurityPolicy,
} from '../../protocol/secure.js';
export {
  nextState,
  type Role,
  SESSION_EVENTS,
  SESSION_STATES,
  type SessionEvent,
  type SessionState,
  StateMachine,
  TRANSITIONS,
  type Transition,
  transition,
} from '../../protocol/state.js';
export { type KeySource, readKeyMaterial } from '../keys.js';
export {
  type ChannelFactory,
  type ChannelHandlers,
  type ClientChannel,
  httpChannel,
  webSocketChannel,
} from './channel.js';
export { type CloseInfo, M2MClient, type M2MClientOptions } from './client.js';
export { type Clock, systemClock, type TimerHandle } from './clock.js';
export { ServerConnection } from './connection.js';
export { registerSessionRoutes, type SessionRoutesOptions } from './http.js';
export {
  type CodecJobResult,
  type CodecOffload,
  type ConnectionSink,
  type DataContext,
  type DataHandler,
  type DecodeJob,
  type EncodeJob,
  type PeerInfo,
  type RateLimiter,
  type RequestAuth,
  type SessionInfo,
  SessionManager,
  type SessionManagerOptions,
  type Transport,
} from './manager.js';
export { MemorySessionStore, type SessionRecord, type SessionStore } from './store.js';
export { attachSessionWebSocket, type SessionWebSocketHandle, type SessionWebSocketOptions } from './websocket.js';

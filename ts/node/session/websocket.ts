/**
 * The WebSocket transport of the server: session messages as JSON in text
 * frames, DATA with TokenNative content optionally as binary frames (see
 * binary.ts). Mounted on any `node:http` server through its `upgrade` event,
 * e.g. the one under a fastify instance (`app.server`).
 */
import type { IncomingMessage, Server } from 'node:http';
// Node-only module: make sure the Node entry (native/wasm backend loader) is installed.
import '../../index.js';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { requirePeer } from '../peers.js';
import type { ServerConnection } from './connection.js';
import type { SessionManager } from './manager.js';

/** Options of {@link attachSessionWebSocket}. */
export interface SessionWebSocketOptions {
  /** URL path that upgrades to the session protocol. Default `/v1/ws`. */
  path?: string;
}

/** What {@link attachSessionWebSocket} returns. */
export interface SessionWebSocketHandle {
  /** The `ws` package's `WebSocketServer`. */
  readonly wss: EventEmitter;
  readonly path: string;
  /** Stops accepting upgrades, closes every connection's session (CLOSE SERVER_SHUTDOWN) and the sockets. */
  close(): Promise<void>;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) {
    const joined = Buffer.concat(data);
    return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Serves the session protocol over WebSocket at `options.path` of `server`.
 * Upgrades for other paths are left to other listeners (or refused with 404
 * when this is the only one).
 */
export function attachSessionWebSocket(
  server: Server,
  manager: SessionManager,
  options: SessionWebSocketOptions = {},
): SessionWebSocketHandle {
  const path = options.path ?? '/v1/ws';
  const { WebSocketServer: WssClass } = requirePeer<{ WebSocketServer: typeof WebSocketServer }>('ws');
  const wss = new WssClass({
    noServer: true,
    // A frame larger than a message may be is refused by ws itself (close 1009) before buffering it all.
    maxPayload: manager.limits.maxMessageBytes,
    perMessageDeflate: false,
  });
  const sockets = new Set<WebSocket>();
  const connections = new Set<ServerConnection>();

  const onConnection = (ws: WebSocket, req: IncomingMessage) => {
    sockets.add(ws);
    const connection = manager.openConnection(
      {
        sendText: (text) => ws.send(text),
        sendBinary: (bytes) => ws.send(bytes, { binary: true }),
        close: (code, reason) => ws.close(code, reason.slice(0, 120)),
      },
      req.socket.remoteAddress === undefined ? {} : { peer: req.socket.remoteAddress },
    );
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
    ws.on('message', (data, isBinary) => {
      connection.receive(isBinary ? toBytes(data) : data.toString());
    });
    ws.on('error', (err) => manager._report(err, { transport: 'websocket' }));
    ws.on('close', () => {
      sockets.delete(ws);
      connection.transportClosed();
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      pathname = '';
    }
    if (pathname !== path) {
      if (server.listenerCount('upgrade') === 1) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  };

  server.on('upgrade', onUpgrade);
  return {
    wss,
    path,
    async close() {
      server.off('upgrade', onUpgrade);
      await Promise.all([...connections].map((c) => c.close('SERVER_SHUTDOWN')));
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

// Session messages: validation of every type, hostile input, binary frames, ids and options.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { M2MError } from '../ts/core/errors.js';
import {
  createMessage,
  decodeBinaryFrame,
  encodeBinaryFrame,
  generateSessionId,
  M2MClient,
  MESSAGE_TYPES,
  type Message,
  parseMessage,
  SESSION_ID_PATTERN,
  SessionManager,
  validateMessage,
} from '../ts/node/session/index.js';
import { errorCode } from './fixtures/session/helpers.js';

const NOW = 1_705_520_400_000;
const at = { now: NOW };

// The spec's own examples (03-message-types.md), one per type, and ERROR.
const EXAMPLES: Record<Message['type'], unknown> = {
  HELLO: {
    type: 'HELLO',
    session_id: null,
    timestamp: NOW,
    payload: { version: '1.0', algorithms: ['TOKEN', 'BROTLI'], security_scanning: true },
  },
  ACCEPT: {
    type: 'ACCEPT',
    session_id: 'sess_abc123',
    timestamp: NOW + 100,
    payload: { version: '1.0', algorithms: ['TOKEN'], security_scanning: true, session_timeout_ms: 300000 },
  },
  REJECT: {
    type: 'REJECT',
    session_id: null,
    timestamp: NOW + 100,
    payload: { code: 'NO_COMMON_ALGORITHM', message: 'Server requires TOKEN algorithm' },
  },
  DATA: {
    type: 'DATA',
    session_id: 'sess_abc123',
    timestamp: NOW + 1000,
    payload: {
      algorithm: 'TOKEN',
      content: '#T1|{"M":"4o","m":[{"r":"u","c":"Hello"}]}',
      original_size: 68,
      security_status: { scanned: true, safe: true },
    },
  },
  PING: { type: 'PING', session_id: 'sess_abc123', timestamp: NOW, payload: {} },
  PONG: { type: 'PONG', session_id: 'sess_abc123', timestamp: NOW + 50, payload: {} },
  CLOSE: { type: 'CLOSE', session_id: 'sess_abc123', timestamp: NOW, payload: { reason: 'NORMAL' } },
  // Not in the spec: this implementation's refusal notice (see messages.ts).
  ERROR: {
    type: 'ERROR',
    session_id: 'sess_abc123',
    timestamp: NOW,
    payload: { code: 'RATE_LIMITED', message: 'rate limit exceeded', refused: 'DATA' },
  },
};

describe('valid messages', () => {
  for (const type of MESSAGE_TYPES) {
    it(`accepts the spec example of ${type} (text and value)`, () => {
      const example = EXAMPLES[type];
      expect(parseMessage(JSON.stringify(example), at)).toEqual(example);
      expect(validateMessage(example, at)).toEqual(example);
    });
  }

  it('drops unknown fields instead of refusing them', () => {
    const msg = { ...(EXAMPLES.PING as object), extra: 1, payload: { surprise: true } };
    expect(parseMessage(JSON.stringify(msg), at)).toEqual(EXAMPLES.PING);
  });

  it('builds messages with createMessage', () => {
    expect(createMessage('PING', 'sess_abc123', {}, NOW)).toEqual(EXAMPLES.PING);
  });
});

describe('hostile and malformed messages', () => {
  const cases: [string, unknown, string][] = [
    ['non-JSON', '{"type":"PING",', 'INVALID_MESSAGE'],
    ['empty text', '', 'INVALID_MESSAGE'],
    ['a JSON array', '[1,2,3]', 'INVALID_MESSAGE'],
    ['a JSON string', '"HELLO"', 'INVALID_MESSAGE'],
    ['null', 'null', 'INVALID_MESSAGE'],
    ['unknown type', JSON.stringify({ ...(EXAMPLES.PING as object), type: 'EXPLODE' }), 'UNKNOWN_MESSAGE_TYPE'],
    ['lowercase type', JSON.stringify({ ...(EXAMPLES.PING as object), type: 'ping' }), 'UNKNOWN_MESSAGE_TYPE'],
    ['missing type', JSON.stringify({ session_id: null, timestamp: NOW, payload: {} }), 'INVALID_MESSAGE'],
    ['numeric type', JSON.stringify({ ...(EXAMPLES.PING as object), type: 7 }), 'INVALID_MESSAGE'],
    ['missing payload', JSON.stringify({ type: 'PING', session_id: 'sess_a', timestamp: NOW }), 'INVALID_MESSAGE'],
    ['missing timestamp', JSON.stringify({ type: 'PING', session_id: 'sess_a', payload: {} }), 'INVALID_MESSAGE'],
    ['string timestamp', JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: String(NOW) }), 'INVALID_MESSAGE'],
    ['fractional timestamp', JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: NOW + 0.5 }), 'INVALID_MESSAGE'],
    ['negative timestamp', JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: -1 }), 'INVALID_MESSAGE'],
    [
      'HELLO with a session id',
      JSON.stringify({ ...(EXAMPLES.HELLO as object), session_id: 'sess_x' }),
      'INVALID_MESSAGE',
    ],
    [
      'PING without a session id',
      JSON.stringify({ ...(EXAMPLES.PING as object), session_id: null }),
      'INVALID_MESSAGE',
    ],
    [
      'session id with odd characters',
      JSON.stringify({ ...(EXAMPLES.PING as object), session_id: 'sess/../x' }),
      'INVALID_MESSAGE',
    ],
    [
      'HELLO algorithms not an array',
      JSON.stringify({ ...(EXAMPLES.HELLO as object), payload: { version: '1.0', algorithms: 'TOKEN' } }),
      'INVALID_MESSAGE',
    ],
    [
      'HELLO without version',
      JSON.stringify({ ...(EXAMPLES.HELLO as object), payload: { algorithms: ['TOKEN'] } }),
      'INVALID_MESSAGE',
    ],
    [
      'ACCEPT without session_timeout_ms',
      JSON.stringify({
        ...(EXAMPLES.ACCEPT as object),
        payload: { version: '1.0', algorithms: ['TOKEN'], security_scanning: true },
      }),
      'INVALID_MESSAGE',
    ],
    [
      'DATA content a number',
      JSON.stringify({ ...(EXAMPLES.DATA as object), payload: { algorithm: 'NONE', content: 5 } }),
      'INVALID_MESSAGE',
    ],
    [
      'DATA negative original_size',
      JSON.stringify({ ...(EXAMPLES.DATA as object), payload: { algorithm: 'NONE', content: 'x', original_size: -1 } }),
      'INVALID_MESSAGE',
    ],
    [
      'DATA confidence above 1',
      JSON.stringify({
        ...(EXAMPLES.DATA as object),
        payload: { algorithm: 'NONE', content: 'x', security_status: { scanned: true, safe: false, confidence: 2 } },
      }),
      'INVALID_MESSAGE',
    ],
    ['PING payload an array', JSON.stringify({ ...(EXAMPLES.PING as object), payload: [] }), 'INVALID_MESSAGE'],
    [
      'REJECT without code',
      JSON.stringify({ ...(EXAMPLES.REJECT as object), payload: { message: 'no' } }),
      'INVALID_MESSAGE',
    ],
    [
      'deep nesting',
      `{"type":"PING","session_id":"sess_a","timestamp":${NOW},"payload":{"x":${'['.repeat(100)}${']'.repeat(100)}}}`,
      'INVALID_MESSAGE',
    ],
    ['very deep nesting (1e6)', '['.repeat(1_000_000), 'INVALID_MESSAGE'],
    [
      'long array',
      `{"type":"PING","session_id":"sess_a","timestamp":${NOW},"payload":{"x":[${'0,'.repeat(10_000)}0]}}`,
      'INVALID_MESSAGE',
    ],
    [
      'a stale timestamp',
      JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: NOW - 3_600_000 }),
      'TIMESTAMP_SKEW',
    ],
    [
      'a future timestamp',
      JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: NOW + 3_600_000 }),
      'TIMESTAMP_SKEW',
    ],
    ['not a string at all', 42, 'INVALID_MESSAGE'],
  ];
  for (const [name, input, code] of cases) {
    it(`refuses ${name} with ${code}`, async () => {
      expect(await errorCode(() => parseMessage(input, at))).toBe(code);
    });
  }

  it('checks the size before parsing (MESSAGE_TOO_LARGE), counting UTF-8 bytes', async () => {
    const limits = { maxMessageBytes: 100 };
    expect(await errorCode(() => parseMessage('x'.repeat(101), { ...at, limits }))).toBe('MESSAGE_TOO_LARGE');
    // 40 characters but 120 bytes.
    expect(await errorCode(() => parseMessage('€'.repeat(40), { ...at, limits }))).toBe('MESSAGE_TOO_LARGE');
    // The default limit is 16 MiB.
    const big = `{"type":"DATA","session_id":"sess_a","timestamp":${NOW},"payload":{"algorithm":"NONE","content":"${'a'.repeat(16 * 1024 * 1024)}"}}`;
    expect(await errorCode(() => parseMessage(big, at))).toBe('MESSAGE_TOO_LARGE');
  });

  it('limits DATA content to the string limit', async () => {
    const msg = { ...(EXAMPLES.DATA as object), payload: { algorithm: 'NONE', content: 'x'.repeat(200) } };
    expect(await errorCode(() => parseMessage(JSON.stringify(msg), { ...at, limits: { maxStringBytes: 100 } }))).toBe(
      'MESSAGE_TOO_LARGE',
    );
  });

  it('accepts a configurable skew (Infinity disables the check)', () => {
    const old = JSON.stringify({ ...(EXAMPLES.PING as object), timestamp: 0 });
    expect(parseMessage(old, { ...at, limits: { maxClockSkewMs: Number.POSITIVE_INFINITY } }).type).toBe('PING');
  });

  it('never throws anything but M2MError on random JSON (fast-check)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        try {
          parseMessage(JSON.stringify(value), at);
        } catch (err) {
          expect(err).toBeInstanceOf(M2MError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but M2MError on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        try {
          parseMessage(text, at);
        } catch (err) {
          expect(err).toBeInstanceOf(M2MError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but M2MError on mutated valid messages', () => {
    const examples = Object.values(EXAMPLES) as Record<string, unknown>[];
    const mutation = fc.record({
      example: fc.integer({ min: 0, max: examples.length - 1 }),
      path: fc.array(
        fc.constantFrom(
          'type',
          'session_id',
          'timestamp',
          'payload',
          'version',
          'algorithms',
          'content',
          'algorithm',
          'code',
          'reason',
          'original_size',
          'security_status',
        ),
        { minLength: 1, maxLength: 2 },
      ),
      value: fc.jsonValue({ maxDepth: 3 }),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(mutation, ({ example, path, value, remove }) => {
        const msg = structuredClone(examples[example]) as Record<string, unknown>;
        let target: Record<string, unknown> = msg;
        for (const key of path.slice(0, -1)) {
          const next = target[key];
          if (typeof next !== 'object' || next === null) break;
          target = next as Record<string, unknown>;
        }
        const last = path[path.length - 1] as string;
        if (remove) delete target[last];
        else target[last] = value;
        for (const text of [JSON.stringify(msg), JSON.stringify(msg).slice(0, -3)]) {
          try {
            parseMessage(text, at);
          } catch (err) {
            expect(err).toBeInstanceOf(M2MError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('binary frames', () => {
  const data = createMessage('DATA', 'sess_abc123', { algorithm: 'TOKEN_NATIVE', content: '', original_size: 5 }, NOW);
  const body = new Uint8Array([0, 15339, 1]);

  it('round-trips header and body', () => {
    const frame = encodeBinaryFrame(data, body);
    expect(frame[0]).toBe(1);
    const out = decodeBinaryFrame(frame, at);
    expect(out.message).toEqual(data);
    expect([...out.body]).toEqual([...body]);
  });

  it('refuses malformed frames with typed errors', async () => {
    const frame = encodeBinaryFrame(data, body);
    const bad: Uint8Array[] = [
      new Uint8Array([]),
      new Uint8Array([1, 0, 0]),
      Uint8Array.from([2, ...frame.subarray(1)]), // unknown kind
      Uint8Array.from([1, 255, 255, 255, 255, ...frame.subarray(5)]), // header length out of range
      Uint8Array.from([1, 0, 0, 0, 2, 0xff, 0xfe, 0]), // header not UTF-8
      frame.subarray(0, frame.length - body.length), // no body
    ];
    for (const f of bad) expect(await errorCode(() => decodeBinaryFrame(f, at))).toBe('INVALID_MESSAGE');
    // A header that is another type, or carries content.
    const ping = new TextEncoder().encode(JSON.stringify(EXAMPLES.PING));
    const pingFrame = new Uint8Array([1, 0, 0, 0, ping.length, ...ping, 0]);
    expect(await errorCode(() => decodeBinaryFrame(pingFrame, at))).toBe('INVALID_MESSAGE');
  });

  it('never throws anything but M2MError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeBinaryFrame(Uint8Array.from([1, 0, 0, 0, Math.min(bytes.length, 255), ...bytes]), at);
        } catch (err) {
          expect(err).toBeInstanceOf(M2MError);
        }
      }),
    );
  });
});

describe('session ids', () => {
  it('are sess_ plus 20 alphanumerics and do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = generateSessionId();
      expect(id).toMatch(SESSION_ID_PATTERN);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });

  it('use the whole alphabet about evenly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const n = 5000;
    for (let i = 0; i < n; i++) for (const c of generateSessionId().slice(5)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (n * 20) / 62;
    // Chi-square with 61 degrees of freedom: 120 is far beyond p = 0.0001 (about 107).
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    expect(chi).toBeLessThan(120);
  });
});

describe('options', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['sessionTimeoutMs below 60 s', { sessionTimeoutMs: 59_999 }],
    ['sessionTimeoutMs above 1 h', { sessionTimeoutMs: 3_600_001 }],
    ['pingIntervalMs below 10 s', { pingIntervalMs: 9_999 }],
    ['pingIntervalMs above 5 min', { pingIntervalMs: 300_001 }],
    ['pingTimeoutMs below 5 s', { pingTimeoutMs: 4_999 }],
    ['pingTimeoutMs above 60 s', { pingTimeoutMs: 60_001 }],
    ['a fractional timeout', { pingTimeoutMs: 5000.5 }],
    ['a string timeout', { pingTimeoutMs: '10000' }],
    ['an unknown algorithm', { algorithms: ['zip'] }],
    ['no algorithms', { algorithms: [] }],
    ['an unknown encoding', { encodings: ['gpt2'] }],
    ['a negative message limit', { limits: { maxMessageBytes: -1 } }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name} with INVALID_OPTION`, async () => {
      expect(await errorCode(() => new SessionManager(options as never))).toBe('INVALID_OPTION');
      expect(await errorCode(() => new M2MClient({ url: 'ws://localhost/v1/ws', ...options } as never))).toBe(
        'INVALID_OPTION',
      );
    });
  }

  it('accepts the ends of the ranges', () => {
    expect(
      () =>
        new SessionManager({ sessionTimeoutMs: 60_000, pingIntervalMs: 300_000, pingTimeoutMs: 5_000 }) &&
        new SessionManager({ sessionTimeoutMs: 3_600_000, pingIntervalMs: 10_000, pingTimeoutMs: 60_000 }),
    ).not.toThrow();
  });

  it('requires a scanner for requireSecurityScanning, and a valid URL for the client', async () => {
    expect(await errorCode(() => new SessionManager({ requireSecurityScanning: true }))).toBe('INVALID_OPTION');
    expect(await errorCode(() => new M2MClient({ url: 'not a url' }))).toBe('INVALID_OPTION');
    expect(await errorCode(() => new M2MClient({ url: 'ftp://x/' }))).toBe('INVALID_OPTION');
  });
});

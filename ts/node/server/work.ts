/**
 * What the stateless endpoints do, apart from HTTP: validate the body, scan,
 * compress or decompress, and build the reply. Run on the main thread for
 * small bodies and in the work pool (pool.ts) for large ones, so both give
 * the same answers.
 */
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import type { FrameSecurity, SecurityMode } from '../../codec/frame.js';
import { httpStatusFor } from '../../core/errors.js';
import { wirePrefix } from '../../core/tables.js';
import { compress, decompressDetailed, inspect, M2MError } from '../../index.js';
import type { SecurityOptions } from '../../protocol/data.js';
import {
  type ScanOptions,
  type ScanResult,
  type SecurityConfig,
  scan,
  scanMessages,
  scanOptionsFrom,
} from '../../security/index.js';

/** The stateless routes. */
export type Route = 'compress' | 'compress/auto' | 'decompress' | 'inspect' | 'scan';

/** The server settings a route needs (plain data: it is sent to pool threads). */
export interface WorkSettings {
  /** The scanner's configuration (every `[security]` setting; plain data). */
  security: SecurityConfig;
  compression: {
    algorithm?: string;
    encoding?: string;
    brotliQuality?: number;
    optimize?: 'bytes' | 'tokens';
    minSize?: number;
    brotliThreshold?: number;
    /** `reference`: only output the reference implementation decodes. */
    profile?: 'default' | 'reference';
  };
  /** The key of protected M2M frames (`protect` in /v1/compress, /v1/decompress); never logged or sent. */
  frameKey?: Uint8Array;
}

/** What the scanner decided about a request's content (for `/metrics`). */
export type Verdict = 'safe' | 'flagged' | 'blocked';

/** The verdict of a scan result: blocked, else flagged when it found threats, else safe. */
export function verdictOf(result: { safe: boolean; blocked: boolean }): Verdict {
  return result.blocked ? 'blocked' : result.safe ? 'safe' : 'flagged';
}

/** What `/metrics` counts of one request: the scanner's verdict and the sizes either side of the codec. */
export interface WorkStats {
  verdict?: Verdict;
  /** UTF-8 bytes of the content (compress's input, decompress's output). */
  contentBytes?: number;
  /** Bytes of the wire form (compress's output, decompress's input). */
  wireBytes?: number;
}

/** A route's answer: status, body, and what the request log line and `/metrics` show. */
export interface WorkResult extends WorkStats {
  status: number;
  body: unknown;
  algorithm?: string;
  /** Deprecation warnings from decompression, for the log. */
  warnings?: string[];
  /** What an `INTERNAL_ERROR` came from, for the log (never sent). */
  cause?: unknown;
}

const compressBody = z
  .object({
    content: z.string(),
    // Checked by compress() itself, so an unknown one gets UNSUPPORTED_ALGORITHM / UNKNOWN_TOKENIZER.
    algorithm: z.string().optional(),
    encoding: z.string().optional(),
    optimize: z.enum(['bytes', 'tokens']).optional(),
    brotli_quality: z.number().int().min(0).max(11).optional(),
    count_tokens: z.boolean().optional(),
    profile: z.enum(['default', 'reference']).optional(),
    protect: z.enum(['hmac', 'aead']).optional(),
  })
  .strict();
const decompressBody = z.object({ wire: z.string(), require: z.enum(['none', 'hmac', 'aead']).optional() }).strict();
const inspectBody = z.object({ wire: z.string() }).strict();
/** `/v1/scan`: one of `content` (text or a JSON payload), `messages` (a chat's messages) or `request` (a whole chat request). */
const scanBody = z
  .object({
    content: z.string().optional(),
    messages: z
      .array(z.union([z.string(), z.object({ role: z.string().optional(), content: z.unknown() })]))
      .optional(),
    request: z.record(z.string(), z.unknown()).optional(),
    mode: z.enum(['disabled', 'monitor', 'blocking']).optional(),
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((b) => [b.content, b.messages, b.request].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of content, messages and request',
  });

/** The spec's error body. */
export function errorBody(err: M2MError, details?: Record<string, unknown>) {
  return { error: { code: err.code, message: err.message, ...(details ? { details } : {}) } };
}

/** An error as a route's answer; anything that is not an `M2MError` is a bug (500). */
export function errorResult(err: unknown): WorkResult {
  const error = err instanceof M2MError ? err : new M2MError('INTERNAL_ERROR', 'internal server error', { cause: err });
  const details = (error as M2MError & { details?: Record<string, unknown> }).details;
  const result: WorkResult = { status: httpStatusFor(error.code), body: errorBody(error, details) };
  if (error.code === 'INTERNAL_ERROR') result.cause = error.cause ?? err;
  return result;
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new M2MError('INVALID_REQUEST', `invalid request body: ${where}${issue?.message ?? 'malformed'}`);
  }
  return result.data;
}

/** A JSON request body from its bytes: `INVALID_UTF8` for bytes that are not UTF-8, `INVALID_JSON` for bad JSON. */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  if (!isUtf8(bytes)) {
    throw new M2MError('INVALID_UTF8', 'request body is not valid UTF-8; send the text UTF-8 encoded');
  }
  if (bytes.length === 0) throw new M2MError('INVALID_JSON', 'request body is empty; send a JSON object');
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new M2MError('INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function blocked(result: ScanResult, withThreats: boolean): M2MError {
  const top = result.threats[0];
  return Object.assign(new M2MError('SECURITY_VIOLATION', 'content blocked by the security scanner'), {
    details: withThreats
      ? { threat_type: top?.type, confidence: top?.confidence, threats: result.threats }
      : top
        ? { threat_type: top.type, confidence: top.confidence, rule: top.rule }
        : {},
  });
}

/** Runs one stateless route on a parsed JSON body. Errors come back as results, never thrown. */
export function runRoute(route: Route, body: unknown, settings: WorkSettings): WorkResult {
  try {
    return route === 'decompress'
      ? decompressRoute(body, settings)
      : route === 'inspect'
        ? { status: 200, body: inspect(parseBody(inspectBody, body).wire) }
        : route === 'scan'
          ? scanRoute(body, settings)
          : compressRoute(body, settings, route === 'compress/auto');
  } catch (err) {
    const r = errorResult(err);
    return err instanceof M2MError && err.code === 'SECURITY_VIOLATION' ? { ...r, verdict: 'blocked' } : r;
  }
}

const scanOptionsCache = new WeakMap<SecurityConfig, ScanOptions>();

/** The scan options of the server's configuration, made once per configuration (allowlist RegExps compiled once). */
function serverScanOptions(security: SecurityConfig): ScanOptions {
  let options = scanOptionsCache.get(security);
  if (!options) {
    options = scanOptionsFrom(security);
    scanOptionsCache.set(security, options);
  }
  return options;
}

/**
 * The scanner and policy of the server's sessions (`SessionManager`'s
 * `scanner` and `securityBlocking`, and the same in the work pool's threads):
 * none when scanning is disabled; `onVerdict` is told every verdict.
 */
export function sessionSecurity(security: SecurityConfig, onVerdict?: (verdict: Verdict) => void): SecurityOptions {
  const blocking = security.mode === 'blocking';
  if (security.mode === 'disabled') return { blocking };
  const options = serverScanOptions(security);
  return {
    blocking,
    scanner: (content) => {
      const r = scan(content, options);
      onVerdict?.(verdictOf(r));
      return { safe: r.safe, blocked: r.blocked, threats: r.threats.map((t) => ({ ...t })) };
    },
  };
}

/** Scans per the server's policy; throws SECURITY_VIOLATION (422) when blocking. */
function guard(content: string, { security }: WorkSettings): ScanResult | undefined {
  if (security.mode === 'disabled') return undefined;
  const result = scan(content, serverScanOptions(security));
  if (result.blocked) throw blocked(result, false);
  return result;
}

/** The server's frame security for `mode`: its configured key, or `FRAME_KEY_UNAVAILABLE`. */
function frameSecurity(mode: SecurityMode, settings: WorkSettings, what: string): FrameSecurity {
  if (mode === 'none') return { mode };
  if (settings.frameKey === undefined) {
    throw new M2MError(
      'FRAME_KEY_UNAVAILABLE',
      `${what} an ${mode} M2M frame needs the server's frame key, and none is configured (server.frame_key_file or server.frame_key_env)`,
    );
  }
  return { mode, key: settings.frameKey };
}

/**
 * What a decompress request is checked against: the mode it requires, else the
 * mode a protected frame declares (so it is verified with the server's key,
 * never returned unchecked), else none.
 */
function decompressSecurity(wire: string, required: SecurityMode | undefined, settings: WorkSettings) {
  if (required !== undefined) return frameSecurity(required, settings, 'requiring');
  if (!wire.startsWith(wirePrefix('FRAME_V1'))) return undefined;
  let declared: SecurityMode;
  try {
    declared = inspect(wire).security;
  } catch {
    return undefined; // a broken frame: decompress reports it
  }
  return declared === 'none' ? undefined : frameSecurity(declared, settings, 'opening');
}

function compressRoute(raw: unknown, settings: WorkSettings, auto: boolean): WorkResult {
  const body = parseBody(compressBody, raw);
  const security = guard(body.content, settings);
  const defaults = settings.compression;
  const r = compress(body.content, {
    algorithm: auto ? 'auto' : ((body.algorithm ?? defaults.algorithm) as never),
    encoding: (body.encoding ?? defaults.encoding) as never,
    optimize: body.optimize ?? defaults.optimize,
    brotliQuality: body.brotli_quality ?? defaults.brotliQuality,
    minSize: defaults.minSize,
    brotliThreshold: defaults.brotliThreshold,
    countTokens: body.count_tokens,
    profile: body.profile ?? defaults.profile,
    ...(body.protect ? { security: frameSecurity(body.protect, settings, 'protecting') } : {}),
  });
  return {
    status: 200,
    algorithm: r.algorithm,
    contentBytes: r.originalBytes,
    wireBytes: r.wireBytes,
    ...(security ? { verdict: verdictOf(security) } : {}),
    body: {
      wire: r.wire,
      algorithm: r.algorithm,
      original_bytes: r.originalBytes,
      wire_bytes: r.wireBytes,
      ...(r.originalTokens !== undefined ? { original_tokens: r.originalTokens, wire_tokens: r.wireTokens } : {}),
      ...(security ? { security: { safe: security.safe, threats: security.threats.length } } : {}),
    },
  };
}

function decompressRoute(raw: unknown, settings: WorkSettings): WorkResult {
  const { wire, require } = parseBody(decompressBody, raw);
  const warnings: string[] = [];
  const security = decompressSecurity(wire, require, settings);
  const r = decompressDetailed(wire, { onWarning: (w) => warnings.push(w), ...(security ? { security } : {}) });
  const scanned = guard(r.text, settings);
  return {
    status: 200,
    algorithm: r.algorithm,
    contentBytes: Buffer.byteLength(r.text),
    wireBytes: Buffer.byteLength(wire),
    ...(scanned ? { verdict: verdictOf(scanned) } : {}),
    body: { content: r.text, algorithm: r.algorithm, ...(r.deprecated ? { deprecated: r.deprecated } : {}) },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

function scanRoute(raw: unknown, settings: WorkSettings): WorkResult {
  const body = parseBody(scanBody, raw);
  const how = {
    ...serverScanOptions(settings.security),
    mode: body.mode ?? settings.security.mode,
    threshold: body.threshold ?? settings.security.threshold,
  };
  const result =
    body.messages !== undefined
      ? scanMessages(body.messages, how)
      : scan(body.content ?? JSON.stringify(body.request), {
          ...how,
          json: body.request !== undefined ? true : 'auto',
        });
  if (result.blocked) throw blocked(result, true);
  return { status: 200, verdict: verdictOf(result), body: result };
}

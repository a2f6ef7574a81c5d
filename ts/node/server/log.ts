/**
 * The server's log: pino (fastify's logger), as JSON lines or as text lines
 * (`2026-12-06T21:00:00.000Z INFO request method=POST ...`), never mixed.
 */
import type { FastifyServerOptions } from 'fastify';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields every pino line has, shown by the text form's prefix or not at all. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function textValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** One pino JSON line as a text line. */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : '';
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  let line = `${time} ${level} ${String(entry.msg ?? '')}`;
  for (const [key, value] of Object.entries(entry)) {
    if (!HIDDEN.has(key) && value !== undefined) line += ` ${key}=${textValue(value)}`;
  }
  return `${line}\n`;
}

/** fastify's `logger` option: `false`, or pino at `level`, writing JSON or text lines to stdout. */
export function loggerOptions(level: string | false | undefined, json: boolean): FastifyServerOptions['logger'] {
  if (level === false) return false;
  return {
    level: level ?? 'info',
    // Never credentials, should a line ever carry headers.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
    ...(json ? {} : { stream: { write: (line: string) => process.stdout.write(textLine(line)) } }),
  };
}

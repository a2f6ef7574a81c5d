/**
 * The error-code registry (ts/core/errors.ts) is the one home of every code:
 * the Rust core raises exactly its `core` codes, and the README's table is
 * made from it (`M2M_UPDATE_DOCS=1 npx vitest run test/errors.test.ts`
 * rewrites the table after a change to the registry).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CORE_ERROR_CODES,
  ERROR_CODES,
  type ErrorCode,
  errorFromPeer,
  httpStatusFor,
  isErrorCode,
} from '../ts/core/errors.js';

const root = new URL('../', import.meta.url);
const START = '<!-- error-codes:start -->';
const END = '<!-- error-codes:end -->';

/** The table's cells, row by row, whatever the padding a formatter gave it. */
function cells(markdown: string): string[][] {
  return markdown
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/^-+$/, '---')),
    );
}

/** The README's table, padded the way biome formats Markdown tables (so an update passes `biome check`). */
function table(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const { status, scope, summary } = ERROR_CODES[code];
    return [`\`${code}\``, String(status), scope, summary.replaceAll('|', '\\|')];
  });
  const all = [['code', 'HTTP', 'from', 'meaning'], ...rows];
  const widths = all[0]?.map((_, c) => Math.max(3, ...all.map((r) => [...(r[c] as string)].length))) ?? [];
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(all[0] as string[]), rule, ...rows.map(line)].join('\n');
}

describe('error codes', () => {
  it('the core codes are exactly those crates/m2m-core/src/error.rs raises', () => {
    const rust = readFileSync(new URL('crates/m2m-core/src/error.rs', root), 'utf8');
    const raised = [...rust.matchAll(/Error::\w+ \{ \.\. \} => "([A-Z0-9_]+)"/g)].map((m) => m[1]);
    expect(raised.length).toBeGreaterThan(10);
    expect([...CORE_ERROR_CODES].sort()).toEqual([...new Set(raised)].sort());
  });

  it('maps codes to statuses, unknown codes to 400, and unknown peer codes to PEER_ERROR', () => {
    expect(httpStatusFor('UNKNOWN_SESSION')).toBe(404);
    expect(httpStatusFor('RATE_LIMITED')).toBe(429);
    expect(httpStatusFor('NO_SUCH_CODE')).toBe(400);
    expect(isErrorCode('INVALID_PREFIX')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(errorFromPeer('TIMESTAMP_SKEW', 'late').code).toBe('TIMESTAMP_SKEW');
    const unknown = errorFromPeer('FUTURE_CODE', 'from a newer peer');
    expect([unknown.code, unknown.message]).toEqual(['PEER_ERROR', 'FUTURE_CODE: from a newer peer']);
  });

  it('the README lists every code with its status', () => {
    const path = new URL('README.md', root);
    const readme = readFileSync(path, 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md needs ${START} … ${END}`).toBeGreaterThan(0);
    const current = readme.slice(start + START.length, end).trim();
    if (process.env.M2M_UPDATE_DOCS === '1' && JSON.stringify(cells(current)) !== JSON.stringify(cells(table()))) {
      writeFileSync(path, `${readme.slice(0, start + START.length)}\n${table()}\n${readme.slice(end)}`);
      return;
    }
    expect(cells(current)).toEqual(cells(table()));
  });
});

describe('M2MError across copies of its module', () => {
  it('is instanceof-equal between copies (the bundled Node entries and the browser modules), and nothing else is', async () => {
    const { M2MError } = await import('../ts/core/errors.js');
    const { UsageError } = await import('../ts/node/cli/args.js');
    const copyUrl = new URL('../ts/core/errors.ts?copy', import.meta.url).href; // another module instance
    const copy = (await import(/* @vite-ignore */ copyUrl)) as typeof import('../ts/core/errors.js');
    expect(copy.M2MError).not.toBe(M2MError);
    expect(new copy.M2MError('INTERNAL_ERROR', 'x')).toBeInstanceOf(M2MError);
    expect(new M2MError('INTERNAL_ERROR', 'x')).toBeInstanceOf(copy.M2MError);
    expect(copy.errorFromPeer('HISTORY_MISMATCH', 'x')).toBeInstanceOf(M2MError);
    expect(new UsageError('x')).toBeInstanceOf(M2MError);
    expect(new UsageError('x')).toBeInstanceOf(copy.M2MError);
    expect(new M2MError('USAGE_ERROR', 'x')).not.toBeInstanceOf(UsageError);
    for (const other of [new Error('x'), { code: 'INTERNAL_ERROR' }, null, undefined, 'M2MError', 1]) {
      expect(other instanceof M2MError).toBe(false);
      expect(other instanceof copy.M2MError).toBe(false);
    }
  });
});

/** The one limits table (ts/core/limits.ts) and the JSON structure check every walker shares. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUTO_MIN_SIZE } from '../ts/codec/codec.js';
import { jsonStructure, LIMITS } from '../ts/core/limits.js';

describe('limits', () => {
  it('the byte limits equal the Rust core’s', () => {
    const rust = readFileSync(new URL('../crates/m2m-core/src/limits.rs', import.meta.url), 'utf8');
    const value = (name: string) => {
      const m = rust.match(new RegExp(`pub const ${name}: usize = ([^;]+);`));
      if (m === null) throw new Error(`${name} not found in limits.rs`);
      return (m[1] as string).split('*').reduce((product, factor) => product * Number(factor.trim()), 1);
    };
    expect(value('MAX_MESSAGE_BYTES')).toBe(LIMITS.maxMessageBytes);
    expect(value('MAX_DECOMPRESSED_BYTES')).toBe(LIMITS.maxDecompressedBytes);
  });

  it("auto's default minSize equals the core's", () => {
    const rust = readFileSync(new URL('../crates/m2m-core/src/codec/auto.rs', import.meta.url), 'utf8');
    expect(rust).toContain(`pub const DEFAULT_MIN_SIZE: usize = ${AUTO_MIN_SIZE};`);
  });

  it('finds depth and array breaches outside strings', () => {
    const deep = `${'['.repeat(33)}${']'.repeat(33)}`;
    expect(jsonStructure(deep)).toEqual({ maxDepth: 33, depthExceededAt: 32, arrayExceededAt: -1 });
    expect(jsonStructure(`"${'['.repeat(40)}"`).maxDepth).toBe(0);
    expect(jsonStructure('{"a":"\\"[[["}').maxDepth).toBe(1);
    const long = `[${Array(10_001).fill(0).join(',')}]`;
    expect(jsonStructure(long).arrayExceededAt).toBe(long.lastIndexOf(','));
    expect(jsonStructure(`[${Array(10_000).fill(0).join(',')}]`).arrayExceededAt).toBe(-1);
    // Object members are not array elements.
    expect(jsonStructure(`{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":0`).join(',')}}`).arrayExceededAt).toBe(
      -1,
    );
  });

  it('stops at the first breach when asked', () => {
    const text = `${'['.repeat(40)}1${']'.repeat(40)}`;
    expect(jsonStructure(text, LIMITS, true).maxDepth).toBe(33);
    expect(jsonStructure(text, LIMITS, false).maxDepth).toBe(40);
  });
});

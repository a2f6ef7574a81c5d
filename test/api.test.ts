import { describe, expect, it } from 'vitest';
import { requestedBackend } from '../ts/core/backend-node.js';
import * as m2m from '../ts/index.js';
import { M2MError } from '../ts/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(M2MError);
    return (err as M2MError).code;
  }
  throw new Error('expected an M2MError');
}

describe('public API', () => {
  it('uses the backend M2M_BACKEND names, native by default', () => {
    expect(m2m.backendKind()).toBe(process.env.M2M_BACKEND || 'native');
  });

  it('packs and unpacks TokenNative text and binary forms', () => {
    const wire = m2m.packTokenNative([9906, 1917], 'cl100k_base');
    expect(wire).toBe('#TK|C|sk39Dg==');
    expect(m2m.unpackTokenNative(wire)).toEqual({ encoding: 'cl100k_base', ids: Uint32Array.of(9906, 1917) });
    const bin = m2m.packTokenNativeBinary([1, 200_018], 'o200k_base');
    expect(bin).toEqual(Uint8Array.of(1, 1, 0xd2, 0x9a, 0x0c));
    expect(m2m.unpackTokenNativeBinary(bin).ids).toEqual(Uint32Array.of(1, 200_018));
  });

  it('rejects ids that are not u32 instead of wrapping them', () => {
    expect(codeOf(() => m2m.packTokenNative([-1], 'cl100k_base'))).toBe('INVALID_TOKEN_ID');
    expect(codeOf(() => m2m.packTokenNative([1.5], 'cl100k_base'))).toBe('INVALID_TOKEN_ID');
    expect(codeOf(() => m2m.packTokenNative([2 ** 32], 'cl100k_base'))).toBe('INVALID_TOKEN_ID');
    expect(codeOf(() => m2m.varintEncode([Number.NaN]))).toBe('INVALID_TOKEN_ID');
  });

  it('rejects unknown encodings before reaching the core', () => {
    expect(codeOf(() => m2m.packTokenNative([1], 'gpt2' as m2m.Encoding))).toBe('UNKNOWN_TOKENIZER');
  });

  it('errors are M2MError with a stable code and a readable message', () => {
    try {
      m2m.unpackTokenNative('#TK|C|gA==');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(M2MError);
      expect(err).toBeInstanceOf(Error);
      expect((err as M2MError).code).toBe('TRUNCATED_VARINT');
      expect((err as M2MError).message).toMatch(/truncated varint/);
    }
  });

  it('M2M_BACKEND accepts native or wasm and rejects anything else loudly', () => {
    expect(requestedBackend({})).toBeUndefined();
    expect(requestedBackend({ M2M_BACKEND: 'wasm' })).toBe('wasm');
    expect(codeOf(() => requestedBackend({ M2M_BACKEND: 'gpu' }))).toBe('BACKEND_UNAVAILABLE');
  });

  it('useBackend switches backends and fails loudly for an unknown one', () => {
    const before = m2m.backendKind();
    expect(m2m.useBackend('wasm').kind).toBe('wasm');
    expect(m2m.packTokenNative([5], 'llama3')).toBe('#TK|L|BQ==');
    expect(codeOf(() => m2m.useBackend('gpu' as m2m.BackendKind))).toBe('BACKEND_UNAVAILABLE');
    m2m.useBackend(before);
  });
});

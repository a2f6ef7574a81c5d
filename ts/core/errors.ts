/**
 * The one error class of m2m. Every failure — from the native addon, the wasm
 * module or the TypeScript layer — is an `M2MError` with a stable `code`.
 */
export class M2MError extends Error {
  /** Stable, machine-readable code, e.g. `INVALID_PREFIX` or `TRUNCATED_VARINT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'M2MError';
    this.code = code;
  }
}

/** Codes raised by the Rust core (identical from the native and the wasm backend). */
export const CORE_ERROR_CODES = [
  'TRUNCATED_VARINT',
  'VARINT_OVERFLOW',
  'NON_CANONICAL_VARINT',
  'INVALID_BASE64',
  'UNKNOWN_TOKENIZER',
  'MISSING_SEPARATOR',
  'INVALID_PREFIX',
  'CONTENT_TOO_LARGE',
  'UNKNOWN_TOKEN',
  'INVALID_UTF8',
  'ENCODING_NOT_LOADED',
  'RANK_DATA_CORRUPT',
  'COMPRESSION_FAILED',
  'DECOMPRESSION_FAILED',
  'UNSUPPORTED_ALGORITHM',
  'INVALID_OPTION',
] as const;

const coreCodes: ReadonlySet<string> = new Set(CORE_ERROR_CODES);

/**
 * Turns whatever a backend threw into an `M2MError`. Core errors keep their
 * code; anything else (a bug, a wasm trap) becomes `INTERNAL_ERROR` with the
 * original error as `cause`.
 */
export function toM2MError(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && coreCodes.has(code)) return new M2MError(code, err.message);
    return new M2MError('INTERNAL_ERROR', `m2m core failed: ${err.message}`, { cause: err });
  }
  return new M2MError('INTERNAL_ERROR', `m2m core failed: ${String(err)}`, { cause: err });
}

/** Keeps an `M2MError`; anything else (a bug) becomes `INTERNAL_ERROR` with the original as `cause`. */
export function asM2MError(err: unknown): M2MError {
  if (err instanceof M2MError) return err;
  return new M2MError('INTERNAL_ERROR', `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * Key material from where keys belong: a file or an environment variable,
 * holding the key as hex. Never a command-line value, which lands in shell
 * history and process listings. The CLI's `--key-file`/`--key-env`, the
 * server's pre-shared session key, the examples and the tests all read keys
 * through {@link readKeyMaterial}.
 */
import { readFileSync } from 'node:fs';
import { M2MError } from '../core/errors.js';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function fromHex(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!HEX.test(hex)) {
    throw new M2MError('INVALID_KEY', `${where} must hold the key as hex (an even number of 0-9 a-f digits)`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Where a key is: exactly one of a file path and an environment variable name. */
export type KeySource = { file: string; env?: undefined } | { env: string; file?: undefined };

/**
 * The key in `source` (hex, surrounding whitespace ignored). A missing
 * file or variable, or text that is not hex, is `INVALID_KEY`.
 */
export function readKeyMaterial(source: KeySource): Uint8Array {
  if (typeof source.file === 'string' && typeof source.env === 'string') {
    throw new M2MError('INVALID_OPTION', 'a key comes from a file or an environment variable, not both');
  }
  if (typeof source.file === 'string') {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new M2MError('INVALID_KEY', `cannot read the key file ${source.file}: ${(err as Error).message}`);
    }
    return fromHex(text, `the key file ${source.file}`);
  }
  if (typeof source.env === 'string') {
    const value = process.env[source.env];
    if (value === undefined) throw new M2MError('INVALID_KEY', `the environment variable ${source.env} is not set`);
    return fromHex(value, `the environment variable ${source.env}`);
  }
  throw new M2MError('INVALID_OPTION', 'a key source needs a file or an environment variable name');
}

/**
 * Frame keys for the CLI: from a file (`--key-file`) or an environment
 * variable (`--key-env NAME`), never from a flag's value, which would land in
 * shell history and process listings. Either holds the key as hex.
 */
import { readFileSync } from 'node:fs';
import type { FrameSecurity, SecurityMode } from '../../codec/frame.js';
import { M2MError } from '../../core/errors.js';
import { UsageError, type Values } from './args.js';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function fromHex(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!HEX.test(hex)) {
    throw new M2MError('INVALID_KEY', `${where} must hold the key as hex (an even number of 0-9 a-f digits)`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The key named by `--key-file` or `--key-env`, if any. */
export function readKey(command: string, values: Values): Uint8Array | undefined {
  const file = values['key-file'];
  const env = values['key-env'];
  if (typeof file === 'string' && typeof env === 'string') {
    throw new UsageError(`m2m ${command}: give --key-file or --key-env, not both.`);
  }
  if (typeof file === 'string') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new M2MError('INVALID_KEY', `cannot read the key file ${file}: ${(err as Error).message}`);
    }
    return fromHex(text, `the key file ${file}`);
  }
  if (typeof env === 'string') {
    const value = process.env[env];
    if (value === undefined) throw new M2MError('INVALID_KEY', `the environment variable ${env} is not set`);
    return fromHex(value, `the environment variable ${env}`);
  }
  return undefined;
}

/** The frame security of `--<flag> hmac|aead` with its key, or undefined without the flag. */
export function securityFrom(command: string, values: Values, flag: 'protect' | 'require'): FrameSecurity | undefined {
  const mode = values[flag];
  const key = readKey(command, values);
  if (mode === undefined) {
    if (key !== undefined) throw new UsageError(`m2m ${command}: a key needs --${flag} hmac or --${flag} aead.`);
    return undefined;
  }
  if (key === undefined) {
    throw new UsageError(
      `m2m ${command}: --${flag} ${String(mode)} needs a key: --key-file <path> or --key-env <NAME>.`,
    );
  }
  return { mode: mode as SecurityMode, key };
}

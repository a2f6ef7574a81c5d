/**
 * Frame keys for the CLI: from a file (`--key-file`) or an environment
 * variable (`--key-env NAME`), never from a flag's value, which would land in
 * shell history and process listings. Either holds the key as hex.
 */
import type { FrameSecurity, SecurityMode } from '../../codec/frame.js';
import { readKeyMaterial } from '../keys.js';
import { UsageError, type Values } from './args.js';

/** The key named by `--key-file` or `--key-env`, if any. */
export function readKey(command: string, values: Values): Uint8Array | undefined {
  const file = values['key-file'];
  const env = values['key-env'];
  if (typeof file === 'string' && typeof env === 'string') {
    throw new UsageError(`m2m ${command}: give --key-file or --key-env, not both.`);
  }
  if (typeof file === 'string') return readKeyMaterial({ file });
  if (typeof env === 'string') return readKeyMaterial({ env });
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

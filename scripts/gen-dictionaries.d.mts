// Types of scripts/gen-dictionaries.mjs, for bench/ and test/.
export const CORPUS_DIR: string;
export const DICTIONARIES: readonly { id: string; version: number; budget: number }[];
export function repoOf(source: string): string;
export function isHeldOut(repo: string): boolean;
export function loadFamilies(
  dir?: string,
): Record<'req' | 'res' | 'sse', { repo: string; body: string; group: number }[]>;
export function train(docs: readonly { repo: string; body: string }[], budget: number): Buffer;
export function dictionaryFile(id: string, version: number, content: Buffer): Buffer;

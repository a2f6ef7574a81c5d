/**
 * The model registry: which encoding a model's tokenizer uses, its context
 * window, and list prices. Data in the package, never fetched. Prices are
 * USD per million tokens as the providers list them on {@link MODELS_AS_OF};
 * check your provider before billing anyone by them.
 */
import type { Encoding } from '../core/encoding.js';
import { M2MError } from '../core/errors.js';

/** What the registry knows of a model. */
export interface ModelInfo {
  /** The model id, or the prefix of its dated snapshots (`gpt-4o` covers `gpt-4o-2024-08-06`). */
  readonly id: string;
  readonly provider: 'openai' | 'meta';
  readonly encoding: Encoding;
  /** Context window, tokens. */
  readonly contextWindow: number;
  /** Largest completion, tokens. */
  readonly maxOutputTokens: number;
  /** USD per million input tokens. */
  readonly inputPrice: number;
  /** USD per million output tokens. */
  readonly outputPrice: number;
  /**
   * Tokens the chat format adds after the last message (the reply's start).
   * Measured against `usage.prompt_tokens` of recorded responses: 3 for the
   * GPT-3.5/4/4o/4.1 families, 2 for the o-series and GPT-5 reasoning models.
   */
  readonly replyTokens: number;
}

/** The day the registry's prices and windows were checked. */
export const MODELS_AS_OF = '2026-12-06';

const openai = (
  id: string,
  encoding: Encoding,
  contextWindow: number,
  maxOutputTokens: number,
  inputPrice: number,
  outputPrice: number,
  replyTokens = 3,
): ModelInfo => ({
  id,
  provider: 'openai',
  encoding,
  contextWindow,
  maxOutputTokens,
  inputPrice,
  outputPrice,
  replyTokens,
});

/** Open-weight Llama 3 models: no list price (hosts set their own). */
const llama = (id: string, contextWindow: number): ModelInfo => ({
  id,
  provider: 'meta',
  encoding: 'llama3',
  contextWindow,
  maxOutputTokens: 8_192,
  inputPrice: 0,
  outputPrice: 0,
  replyTokens: 3,
});

/** Every model the registry knows, most specific id first within a family. */
export const MODELS: readonly ModelInfo[] = Object.freeze([
  openai('gpt-5-nano', 'o200k_base', 400_000, 128_000, 0.05, 0.4, 2),
  openai('gpt-5-mini', 'o200k_base', 400_000, 128_000, 0.25, 2, 2),
  openai('gpt-5', 'o200k_base', 400_000, 128_000, 1.25, 10, 2),
  openai('gpt-4.1-nano', 'o200k_base', 1_047_576, 32_768, 0.1, 0.4),
  openai('gpt-4.1-mini', 'o200k_base', 1_047_576, 32_768, 0.4, 1.6),
  openai('gpt-4.1', 'o200k_base', 1_047_576, 32_768, 2, 8),
  openai('gpt-4o-mini', 'o200k_base', 128_000, 16_384, 0.15, 0.6),
  openai('gpt-4o', 'o200k_base', 128_000, 16_384, 2.5, 10),
  openai('o4-mini', 'o200k_base', 200_000, 100_000, 1.1, 4.4, 2),
  openai('o3-mini', 'o200k_base', 200_000, 100_000, 1.1, 4.4, 2),
  openai('o3', 'o200k_base', 200_000, 100_000, 2, 8, 2),
  openai('o1-mini', 'o200k_base', 128_000, 65_536, 1.1, 4.4, 2),
  openai('o1', 'o200k_base', 200_000, 100_000, 15, 60, 2),
  openai('gpt-4-turbo', 'cl100k_base', 128_000, 4_096, 10, 30),
  openai('gpt-4-32k', 'cl100k_base', 32_768, 8_192, 60, 120),
  openai('gpt-4', 'cl100k_base', 8_192, 8_192, 30, 60),
  openai('gpt-3.5-turbo-instruct', 'cl100k_base', 4_096, 4_096, 1.5, 2),
  openai('gpt-3.5-turbo', 'cl100k_base', 16_385, 4_096, 0.5, 1.5),
  openai('text-embedding-3-small', 'cl100k_base', 8_191, 0, 0.02, 0),
  openai('text-embedding-3-large', 'cl100k_base', 8_191, 0, 0.13, 0),
  openai('text-embedding-ada-002', 'cl100k_base', 8_191, 0, 0.1, 0),
  llama('llama-3.3', 128_000),
  llama('llama-3.1', 128_000),
  llama('llama-3', 8_192),
  llama('llama3', 8_192),
] satisfies ModelInfo[]);

/** Lower case, without a provider path (`meta-llama/Llama-3.3-70B` → `llama-3.3-70b`). */
function normalise(model: string): string {
  return model.trim().toLowerCase().replace(/^.*\//, '');
}

/**
 * The registry entry of `model`: the entry whose id is the model or the
 * longest prefix of it ending at a `-` (dated snapshots, size suffixes), or
 * `undefined`.
 */
export function findModel(model: string): ModelInfo | undefined {
  const name = normalise(model);
  let best: ModelInfo | undefined;
  for (const info of MODELS) {
    const id = info.id;
    if (name === id || (name.startsWith(id) && name[id.length] === '-')) {
      if (best === undefined || id.length > best.id.length) best = info;
    }
  }
  return best;
}

/**
 * The registry entry of `model`.
 *
 * @throws M2MError `UNKNOWN_MODEL` naming the model and where the list is.
 */
export function modelInfo(model: string): ModelInfo {
  const info = findModel(model);
  if (info === undefined) {
    throw new M2MError(
      'UNKNOWN_MODEL',
      `unknown model ${JSON.stringify(model)}: pass an encoding instead, or a fallback (m2m models lists the known ones)`,
    );
  }
  return info;
}

/**
 * The encoding of `model`'s tokenizer (gpt-4o, 4.1, 5 and the o-series →
 * o200k_base; gpt-4 and 3.5 → cl100k_base; Llama 3 → llama3). An unknown
 * model is an `UNKNOWN_MODEL` error unless `fallback` names the encoding to
 * use for it.
 */
export function encodingForModel(model: string, options: { fallback?: Encoding } = {}): Encoding {
  const info = findModel(model);
  if (info !== undefined) return info.encoding;
  if (options.fallback !== undefined) return options.fallback;
  return modelInfo(model).encoding;
}

/** The list-price cost in USD of a call with these token counts. */
export function estimateCost(model: string, inputTokens: number, outputTokens = 0): number {
  const info = modelInfo(model);
  return (inputTokens * info.inputPrice + outputTokens * info.outputPrice) / 1_000_000;
}

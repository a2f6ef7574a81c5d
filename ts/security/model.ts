/**
 * The scanner's second layer: the learned classifier in the Rust core
 * (`m2m-core::classifier`, trained by `scripts/train-scanner/train.py`),
 * scored through the loaded backend, so native and wasm give the same scores.
 * The weights load on first use.
 */
import { backend } from '../core/backend.js';
import type { ThreatType } from './types.js';

/** The threat type of each class index the core returns (0 is benign). */
const CLASS_TYPES: readonly ThreatType[] = ['PROMPT_INJECTION', 'PROMPT_INJECTION', 'JAILBREAK', 'DATA_EXFILTRATION'];
/** Rule id of a classifier finding, by class index. */
const CLASS_RULES = ['model.benign', 'model.injection', 'model.jailbreak', 'model.exfiltration'] as const;

/** The classifier's judgement of a text: its highest-scoring window. */
export interface ModelVerdict {
  /** Probability that the window is an attack (0..1). */
  score: number;
  type: ThreatType;
  rule: (typeof CLASS_RULES)[number];
  /** UTF-16 offsets of the window in the text. */
  start: number;
  end: number;
}

/** Scores `text` with the built-in classifier. */
export function classify(text: string): ModelVerdict {
  const [score, cls, start, end] = backend().classifyText(text) as unknown as [number, number, number, number];
  return { score, type: CLASS_TYPES[cls] as ThreatType, rule: CLASS_RULES[cls] ?? 'model.injection', start, end };
}

/** The score at which the classifier has 1% false positives on its held-out split. */
export function modelThreshold(): number {
  return backend().classifierThreshold();
}

/** The highest confidence the classifier alone gives (rules are the explainable layer; they go higher). */
export const MODEL_MAX_CONFIDENCE = 0.95;

/**
 * A classifier score on the scanner's confidence scale: the calibrated
 * threshold maps to `at` (the scanner's default threshold), 0 to 0 and 1 to
 * {@link MODEL_MAX_CONFIDENCE}, linearly in between.
 */
export function modelConfidence(score: number, at: number): number {
  const t = modelThreshold();
  return score <= t ? (at * score) / t : at + ((MODEL_MAX_CONFIDENCE - at) * (score - t)) / (1 - t);
}

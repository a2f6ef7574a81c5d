/** Types shared by the security scanner's modules. */

/** The kinds of threat the scanner reports (the spec's security scan result types). */
export const THREAT_TYPES = [
  'PROMPT_INJECTION',
  'JAILBREAK',
  'DATA_EXFILTRATION',
  'MALFORMED_INPUT',
  'EXCESSIVE_NESTING',
] as const;
export type ThreatType = (typeof THREAT_TYPES)[number];

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SCAN_MODES = ['disabled', 'monitor', 'blocking'] as const;
export type ScanMode = (typeof SCAN_MODES)[number];

/** How a hidden payload was found: the encoding the scanner undid before matching. */
export type DecodedFrom = 'base64' | 'hex' | 'url' | 'unicode-tags';

export interface Evidence {
  /** An excerpt of what matched (at most 120 characters; decoded text when `decodedFrom` is set). */
  match: string;
  /**
   * UTF-16 offset of the finding: in the scanned content, or — when `field` is set — in that
   * field's string value. For a decoded payload, the offset and length of the encoded run.
   */
  offset: number;
  /** Length in UTF-16 code units of the region the finding covers. */
  length: number;
  /** Where in a JSON payload the finding is, e.g. `messages[2].content`. */
  field?: string;
  /** Set when the threat was found after decoding an encoded run (outermost encoding). */
  decodedFrom?: DecodedFrom;
}

export interface Threat {
  type: ThreatType;
  severity: Severity;
  /** How sure the scanner is, 0..1 (several independent signals raise it). */
  confidence: number;
  /** Stable id of the rule that produced the finding, e.g. `injection.ignore-previous`. */
  rule: string;
  evidence: Evidence;
}

export interface ScanResult {
  /** No threat at or above the threshold. */
  safe: boolean;
  /** The mode is `blocking` and the content is not safe. */
  blocked: boolean;
  mode: ScanMode;
  threshold: number;
  /** Findings, highest confidence first (findings below the threshold are included, for monitoring). */
  threats: Threat[];
  /** UTF-8 bytes of content actually scanned (0 when scanning was skipped). */
  scannedBytes: number;
  /** Why nothing was scanned, when nothing was: the mode is `disabled` or the source is trusted. */
  skipped?: 'disabled' | 'trusted-source';
}

export interface ScanOptions {
  /** `monitor` (default) reports, `blocking` also sets `blocked`, `disabled` skips scanning. */
  mode?: ScanMode;
  /** Confidence at or above which a finding makes content unsafe (default 0.8). */
  threshold?: number;
  /**
   * Known-good content: every occurrence of a string, or every match of a RegExp, is ignored
   * (masked before scanning). Keep RegExps simple: they run on the whole input.
   */
  allowlist?: ReadonlyArray<string | RegExp>;
  /** Rule ids (or id prefixes ending in `.`, e.g. `jailbreak.`) to switch off. */
  disabledRules?: readonly string[];
  /** Where the content comes from (an API key name, a service id...). */
  source?: string;
  /** Sources whose content is not scanned at all. */
  trustedSources?: readonly string[];
  /** How many layers of base64/hex/URL encoding are undone and rescanned (default 2, max 8). */
  maxDecodeDepth?: number;
  /**
   * Score each text with the learned classifier too (default true): its findings have rule
   * ids `model.injection`, `model.jailbreak`, `model.exfiltration`, and it raises rule
   * findings inside the window it flags. Needs the loaded backend (in browsers, after `init()`).
   */
  model?: boolean;
  /** `auto` (default): scan the text fields of a JSON LLM payload; `true`: require JSON; `false`: raw text. */
  json?: boolean | 'auto';
}

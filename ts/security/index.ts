/**
 * Content security scanning (spec §7.5, §7.6): prompt injection, jailbreaks,
 * data exfiltration, malformed input and excessive JSON nesting, with
 * confidence scores, monitor/blocking modes and evasion-resistant matching.
 * Pure TypeScript; works in Node and browsers.
 */
export {
  resolveSecurityConfig,
  SECURITY_DEFAULTS,
  SECURITY_SETTINGS,
  type SecurityCliOptions,
  type SecurityConfig,
  scanOptionsFrom,
  securityConfigFrom,
  securityField,
} from './config.js';
export { skeletonize } from './normalize.js';
export { STRUCTURAL_RULES } from './rule-data.js';
export { phraseRules } from './rules.js';
export { SCAN_LIMITS, type ScanMessage, scan, scanMessages } from './scanner.js';
export { MAX_JSON_DEPTH } from './structure.js';
export * from './types.js';
export {
  assertSafe,
  isSecurityViolation,
  type SecurityViolation,
  type SecurityViolationDetails,
  securityErrorBody,
  topThreat,
} from './violation.js';

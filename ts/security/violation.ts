/**
 * The error a blocking scan raises (`SECURITY_VIOLATION`) and its HTTP body.
 * Kept apart from the configuration parser so that the main entry point
 * loads the scanner without the schema library.
 */
import { M2MError } from '../core/errors.js';
import type { ScanResult, Threat, ThreatType } from './types.js';

/** What a `SECURITY_VIOLATION` error carries (the proxy's HTTP 422 `details`). */
export interface SecurityViolationDetails {
  threat_type: ThreatType;
  confidence: number;
  rule: string;
  severity: Threat['severity'];
  field?: string;
}

/** An `M2MError` with code `SECURITY_VIOLATION` and the top threat in `details`. */
export type SecurityViolation = M2MError & { code: 'SECURITY_VIOLATION'; details: SecurityViolationDetails };

/** The highest-confidence threat of a result, or undefined. */
export function topThreat(result: ScanResult): Threat | undefined {
  return result.threats[0];
}

/**
 * Throws when the scan found a threat at or above its threshold (whatever the
 * mode: in monitor mode, log instead of calling this). The error is an
 * `M2MError` with code `SECURITY_VIOLATION` and a `details` field describing
 * the top threat.
 */
export function assertSafe(result: ScanResult): void {
  if (result.safe) return;
  const top = result.threats.find((t) => t.confidence >= result.threshold) ?? result.threats[0];
  const err = new M2MError(
    'SECURITY_VIOLATION',
    top
      ? `Content blocked by security scanner: ${top.type} (confidence ${top.confidence}, rule ${top.rule})`
      : 'Content blocked by security scanner',
  ) as SecurityViolation;
  err.details = {
    threat_type: top?.type ?? 'PROMPT_INJECTION',
    confidence: top?.confidence ?? 1,
    rule: top?.rule ?? 'unknown',
    severity: top?.severity ?? 'high',
    ...(top?.evidence.field !== undefined ? { field: top.evidence.field } : {}),
  };
  throw err;
}

/** True for the error thrown by {@link assertSafe}. */
export function isSecurityViolation(err: unknown): err is SecurityViolation {
  return err instanceof M2MError && err.code === 'SECURITY_VIOLATION' && 'details' in err;
}

/** The proxy's error body for a violation (send with HTTP 422). */
export function securityErrorBody(err: SecurityViolation): {
  error: { code: 'SECURITY_VIOLATION'; message: string; details: { threat_type: ThreatType; confidence: number } };
} {
  return {
    error: {
      code: 'SECURITY_VIOLATION',
      message: 'Content blocked by security scanner',
      details: { threat_type: err.details.threat_type, confidence: err.details.confidence },
    },
  };
}

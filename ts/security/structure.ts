/**
 * JSON structure: nesting depth without recursion, and the text fields of an
 * LLM request (OpenAI chat/completions/responses, Anthropic messages, and
 * generic JSON) with their paths.
 */
import { jsonStructure, LIMITS } from '../core/limits.js';

/** The protocol's JSON depth limit (spec §7.6): a scalar root has depth 0, `[]` depth 1. */
export const MAX_JSON_DEPTH = LIMITS.maxDepth;

export interface DepthReport {
  maxDepth: number;
  /** Offset of the bracket that first went past the limit, or -1. */
  exceededAt: number;
}

/** Deepest nesting of `[`/`{` outside JSON strings. One pass, no recursion. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): DepthReport {
  const found = jsonStructure(text, { maxDepth: limit, maxArrayLength: Number.POSITIVE_INFINITY });
  return { maxDepth: found.maxDepth, exceededAt: found.depthExceededAt };
}

/** A string to scan, found in a JSON document. */
export interface TextField {
  path: string;
  value: string;
  /** Role of the message the field belongs to (`user`, `system`, `tool`...), if known. */
  role?: string;
  /** Index of the message in the request's `messages`/`input` list, for split detection. */
  message?: number;
}

/** Keys whose string values are identifiers or enums, not text a model reads. */
const SKIP_KEYS = new Set([
  'role',
  'model',
  'id',
  'type',
  'object',
  'tool_call_id',
  'tool_use_id',
  'finish_reason',
  'stop_reason',
  'created',
  'encoding_format',
  'response_format',
  'tool_choice',
  'user',
  'service_tier',
  'reasoning_effort',
  'detail',
  'media_type',
  'cache_control',
  'call_id',
]);

const IDENT = /^[A-Za-z_$][\w$]*$/;
const MAX_FIELDS = 20_000;
const MAX_INNER_JSON = 3;

function keyPath(base: string, key: string): string {
  if (IDENT.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

function roleOf(value: unknown): string | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const r = (value as Record<string, unknown>).role;
    if (typeof r === 'string') return r;
    const t = (value as Record<string, unknown>).type;
    if (t === 'function_call_output' || t === 'tool_result') return 'tool';
  }
  return undefined;
}

/**
 * Every string value of a parsed JSON document (keys of identifiers skipped),
 * with its path. String values that are JSON themselves — tool call
 * `arguments` — are parsed and walked too, their paths continuing the
 * field's. Iterative; at most {@link MAX_FIELDS} fields.
 */
export function textFields(root: unknown): TextField[] {
  const out: TextField[] = [];
  type Frame = { value: unknown; path: string; role?: string; message?: number; inner: number };
  const stack: Frame[] = [{ value: root, path: '', inner: 0 }];
  while (stack.length > 0 && out.length < MAX_FIELDS) {
    const f = stack.pop() as Frame;
    const v = f.value;
    if (typeof v === 'string') {
      const trimmed = v.trimStart();
      if (
        f.inner < MAX_INNER_JSON &&
        (trimmed.startsWith('{') || trimmed.startsWith('[')) &&
        jsonDepth(v).exceededAt < 0
      ) {
        try {
          const inner: unknown = JSON.parse(v);
          if (inner && typeof inner === 'object') {
            stack.push({ value: inner, path: f.path, role: f.role, message: f.message, inner: f.inner + 1 });
            continue;
          }
        } catch {
          // not JSON after all: scan it as text
        }
      }
      out.push({ path: f.path || '$', value: v, role: f.role, message: f.message });
    } else if (Array.isArray(v)) {
      const isMessages = f.path === 'messages' || f.path === 'input' || f.path === 'contents';
      for (let i = v.length - 1; i >= 0; i--) {
        const item = v[i];
        const role = isMessages ? (roleOf(item) ?? f.role) : (roleOf(item) ?? f.role);
        stack.push({
          value: item,
          path: `${f.path}[${i}]`,
          role,
          message: isMessages ? i : f.message,
          inner: f.inner,
        });
      }
    } else if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, value] = entries[i] as [string, unknown];
        if (SKIP_KEYS.has(key) && typeof value === 'string') continue;
        let role = f.role;
        if (f.path === '' && (key === 'system' || key === 'instructions')) role = 'system';
        stack.push({ value, path: keyPath(f.path, key), role, message: f.message, inner: f.inner });
      }
    }
  }
  return out;
}

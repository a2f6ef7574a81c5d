/**
 * The protocol's limits (spec §3.5 and §7.6), once for the whole package, and
 * the one JSON structure check every walker uses (T1, session messages, the
 * scanner). The byte limits equal the Rust core's (`crates/m2m-core/src/limits.rs`;
 * test/limits.test.ts checks it).
 */

/** The protocol's limits. */
export const LIMITS = Object.freeze({
  /** Largest wire message accepted or produced, in UTF-8 bytes (16 MiB). */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Largest content a message may decompress to, in UTF-8 bytes (16 MiB). */
  maxDecompressedBytes: 16 * 1024 * 1024,
  /** Deepest nesting of JSON arrays and objects (a scalar root is depth 0, `[]` depth 1). */
  maxDepth: 32,
  /** Longest JSON string (unescaped value or key), in UTF-8 bytes (10 MiB). */
  maxStringBytes: 10 * 1024 * 1024,
  /** Most elements in one JSON array. */
  maxArrayLength: 10_000,
  /** Largest HTTP request head the server reads (request line and headers, bytes); 431 above. */
  maxHeaderBytes: 16 * 1024,
});

/** What {@link jsonStructure} found. */
export interface JsonStructure {
  /** Deepest nesting seen. */
  maxDepth: number;
  /** Offset of the bracket that first went past `maxDepth`, or -1. */
  depthExceededAt: number;
  /** Offset of the comma that first made an array longer than `maxArrayLength`, or -1. */
  arrayExceededAt: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Nesting depth and array lengths of JSON text, outside strings, in one pass
 * without recursion or building anything, so hostile nesting is found before
 * any parser runs. Malformed text is not reported here (a parser does that);
 * the pass stops at the first breach when `stopAtBreach` is set.
 */
export function jsonStructure(
  text: string,
  limits: { maxDepth: number; maxArrayLength: number } = LIMITS,
  stopAtBreach = false,
): JsonStructure {
  // Per open container: commas seen so far for arrays, -1 for objects.
  const commas: number[] = [];
  let maxDepth = 0;
  let depthExceededAt = -1;
  let arrayExceededAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      commas.push(c === OPEN_ARRAY ? 0 : -1);
      if (commas.length > maxDepth) {
        maxDepth = commas.length;
        if (maxDepth > limits.maxDepth && depthExceededAt < 0) {
          depthExceededAt = i;
          if (stopAtBreach) break;
        }
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      commas.pop();
    } else if (c === COMMA) {
      const top = commas.length - 1;
      const n = commas[top];
      if (n !== undefined && n >= 0) {
        commas[top] = n + 1;
        if (n + 2 > limits.maxArrayLength && arrayExceededAt < 0) {
          arrayExceededAt = i;
          if (stopAtBreach) break;
        }
      }
    }
  }
  return { maxDepth, depthExceededAt, arrayExceededAt };
}

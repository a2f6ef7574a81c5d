/**
 * Where the CLI's content comes from (an argument, `-` for stdin, `--file`)
 * and the JSON Lines batch reader, with the size limit checked before
 * anything large is held in memory.
 */
import { closeSync, createReadStream, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { M2MError } from '../../core/errors.js';
import { UsageError } from './args.js';
import { bytes } from './format.js';

export interface InputSpec {
  command: string;
  /** Positional arguments (at most one: the content, or `-`). */
  positionals: string[];
  file?: string;
  /** Force JSON Lines (otherwise decided by the file extension). */
  jsonl: boolean;
  /** Largest content (per record in batch mode), bytes. */
  maxSize: number;
  stdin?: Readable;
}

export type Source = { kind: 'argument' } | { kind: 'stdin' } | { kind: 'file'; path: string; size: number };

/** Checks there is exactly one source of content and says which. */
export function inputSource(spec: InputSpec): Source {
  const { command, positionals, file } = spec;
  if (positionals.length > 1) {
    throw new UsageError(
      `m2m ${command}: expected one content argument, got ${positionals.length}. Quote the content ('...') or pass it with --file or '-' (stdin).`,
    );
  }
  if (file !== undefined && positionals.length === 1) {
    throw new UsageError(`m2m ${command}: give the content either as an argument or with --file, not both.`);
  }
  if (file === '-' || positionals[0] === '-') return { kind: 'stdin' };
  if (file !== undefined) {
    let size: number;
    try {
      const st = statSync(file);
      if (st.isDirectory()) throw new M2MError('INPUT_ERROR', `--file ${file} is a directory; give a file.`);
      size = st.size;
    } catch (err) {
      if (err instanceof M2MError) throw err;
      throw new M2MError('INPUT_ERROR', `cannot read --file ${file}: ${(err as Error).message}`);
    }
    return { kind: 'file', path: file, size };
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `m2m ${command}: no content given. Pass it as an argument (m2m ${command} '<content>'), '-' to read stdin, or --file <path>.`,
    );
  }
  return { kind: 'argument' };
}

/** True when the input is JSON Lines: `--jsonl`, or a `.jsonl` / `.ndjson` file. */
export function isBatch(spec: InputSpec): boolean {
  return spec.jsonl || (spec.file !== undefined && /\.(jsonl|ndjson)$/i.test(spec.file));
}

const exact = (n: number) => (n < 1024 ? bytes(n) : `${bytes(n)} (${n} bytes)`);

export function tooLarge(what: string, size: number, limit: number): M2MError {
  return new M2MError(
    'CONTENT_TOO_LARGE',
    `${what} is ${exact(size)}; the limit is ${exact(limit)}. ` +
      'Split the input, or raise compression.max_size / --max-size (at most the protocol limit of 16 MiB).',
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(buf: Uint8Array, what: string): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new M2MError('INVALID_UTF8', `${what} is not valid UTF-8; m2m compresses text. Convert it to UTF-8 first.`);
  }
}

async function readStream(stream: Readable, limit: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) {
      stream.destroy();
      throw tooLarge(`${what} (read so far)`, size, limit);
    }
    chunks.push(buf);
  }
  return decode(Buffer.concat(chunks), what);
}

/** Reads the one content of a non-batch command. */
export async function readContent(spec: InputSpec): Promise<{ content: string; source: Source }> {
  const source = inputSource(spec);
  if (source.kind === 'argument') {
    const content = spec.positionals[0] as string;
    const size = Buffer.byteLength(content);
    if (size > spec.maxSize) throw tooLarge('the content argument', size, spec.maxSize);
    return { content, source };
  }
  if (source.kind === 'stdin') {
    return { content: await readStream(spec.stdin ?? process.stdin, spec.maxSize, 'stdin'), source };
  }
  if (source.size > spec.maxSize) throw tooLarge(`--file ${source.path}`, source.size, spec.maxSize);
  return { content: decode(readFileSync(source.path), `--file ${source.path}`), source };
}

/** One line of a JSON Lines input. */
export interface BatchRecord {
  /** 1-based line number. */
  line: number;
  /** The string value, or the line's text when the value is not a string. */
  content?: string;
  /** Why the line cannot be processed (not JSON, too large). */
  error?: M2MError;
  /** Bytes of the line (with its newline), for progress. */
  bytes: number;
}

/**
 * The records of a JSON Lines input: one JSON value per line; a string value
 * is the content itself, any other value is content as it is written (so
 * `-a token` gets the JSON text). Blank lines are skipped.
 */
export async function* readRecords(spec: InputSpec, source = inputSource(spec)): AsyncGenerator<BatchRecord> {
  let lines: AsyncIterable<string> | Iterable<string>;
  if (source.kind === 'argument') lines = (spec.positionals[0] as string).split('\n');
  else {
    const stream = source.kind === 'stdin' ? (spec.stdin ?? process.stdin) : createReadStream(source.path);
    lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  }
  let line = 0;
  for await (const raw of lines) {
    line++;
    const size = Buffer.byteLength(raw) + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') continue;
    if (size - 1 > spec.maxSize) {
      yield { line, bytes: size, error: tooLarge(`line ${line}`, size - 1, spec.maxSize) };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      yield {
        line,
        bytes: size,
        error: new M2MError(
          'INVALID_JSON',
          `line ${line} is not valid JSON (${(err as Error).message}); each line must be one JSON value or a JSON string`,
        ),
      };
      continue;
    }
    yield { line, bytes: size, content: typeof value === 'string' ? value : text.trim() };
  }
}

/** Where results go: stdout, or the `-o` file (opened up front so a bad path fails before any work). */
export class Output {
  readonly toFile: boolean;
  private readonly fd: number | undefined;

  constructor(readonly path: string | undefined) {
    this.toFile = path !== undefined && path !== '-';
    if (this.toFile) {
      try {
        this.fd = openSync(path as string, 'w');
      } catch (err) {
        throw new M2MError('OUTPUT_ERROR', `cannot write -o ${path}: ${(err as Error).message}`);
      }
    }
  }

  /** True when the output is a terminal (then tables may be wide, progress must stay off). */
  get isTerminal(): boolean {
    return !this.toFile && !!process.stdout.isTTY;
  }

  write(text: string): void {
    if (this.fd !== undefined) {
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } else process.stdout.write(text);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }

  /** Data: exact bytes into a file, with a newline added on stdout (as `echo` does). */
  data(text: string): void {
    this.write(this.toFile ? text : `${text}\n`);
  }
}

/**
 * Large real texts for the tokenizer benchmark, read from files the project's
 * own dependencies install (so every machine gets the same bytes from the
 * lock file): English prose from the dependencies' README files with code
 * blocks, tables and markup removed, and source code from TypeScript's
 * compiler.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MODULES = new URL('../node_modules/', import.meta.url).pathname;

/** Cuts `text` to at most `bytes` UTF-8 bytes, at a line break. */
function cut(text: string, bytes: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= bytes) return text;
  const end = buf.lastIndexOf(10, bytes);
  return buf.subarray(0, end > 0 ? end + 1 : bytes).toString();
}

function readmes(dir: string, out: string[], depth = 0): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === '.bin' || name === '.cache') continue;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory() && depth < 3) readmes(path, out, depth + 1);
    else if (st.isFile() && /^readme\.md$/i.test(name)) out.push(path);
  }
}

/** About `bytes` of English prose: dependency READMEs without code, tables or markup. */
export function prose(bytes = 1 << 20): string {
  const files: string[] = [];
  readmes(MODULES, files);
  const parts: string[] = [];
  let size = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/<[^>]+>/g, '')
      .split('\n')
      .filter((line) => !/^\s*(\||[-=]{3,}|!\[|\[!\[|\[[^\]]*\]:)/.test(line))
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n');
    parts.push(text);
    size += text.length;
    if (size > bytes * 1.2) break;
  }
  return cut(parts.join('\n'), bytes);
}

/** About `bytes` of JavaScript: the start of TypeScript's compiler. */
export function sourceCode(bytes = 1 << 20): string {
  return cut(readFileSync(join(MODULES, 'typescript/lib/typescript.js'), 'utf8'), bytes);
}

/**
 * The layers of ts/, kept by reading every import: node → protocol → codec →
 * core, with security beside them (it may use core only), and the entry files
 * (ts/*.ts) on top. Only ts/core/ loads the bindings (build/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

type Layer = 'core' | 'codec' | 'protocol' | 'security' | 'node' | 'entry' | 'outside';

/** What each layer may import, besides itself. */
const ALLOWED: Record<Exclude<Layer, 'outside'>, readonly Layer[]> = {
  core: [],
  security: ['core'],
  codec: ['core', 'security'],
  protocol: ['core', 'codec', 'security'],
  node: ['core', 'codec', 'protocol', 'security', 'entry'],
  entry: ['core', 'codec', 'protocol', 'security', 'entry'],
};

function layerOf(path: string): Layer {
  if (!path.startsWith('ts/')) return 'outside';
  const parts = path.split('/');
  if (parts.length === 2) return 'entry';
  const top = parts[1] as Layer;
  return top in ALLOWED ? top : 'outside';
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;

/** Every relative import of `file`, resolved to a repository path. */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[2] as string;
    if (!spec.startsWith('.')) continue;
    out.push(posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = sources('ts');

describe('layers of ts/', () => {
  it('finds the layers', () => {
    const layers = new Set(files.map(layerOf));
    for (const layer of Object.keys(ALLOWED)) expect(layers).toContain(layer);
    expect(layers).not.toContain('outside');
  });

  it('parses the import forms it checks', () => {
    const text =
      "import a from './x.js';\nexport { b } from '../y.js';\nconst c = await import('./z.js');\nimport './side.js';";
    expect(importsOf('ts/codec/f.ts', text)).toEqual(['ts/codec/x.ts', 'ts/y.ts', 'ts/codec/z.ts', 'ts/codec/side.ts']);
  });

  it('every import points down the layers', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = layerOf(file) as Exclude<Layer, 'outside'>;
      for (const target of importsOf(file, readFileSync(join(root, file), 'utf8'))) {
        const to = layerOf(target);
        if (to === 'outside') {
          if (from !== 'core') wrong.push(`${file} -> ${target} (only ts/core/ loads build/)`);
        } else if (to !== from && !ALLOWED[from].includes(to)) {
          wrong.push(`${file} (${from}) -> ${target} (${to})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the checker catches a wrong arrow', () => {
    const target = importsOf('ts/core/x.ts', "import { y } from '../node/cli.js';")[0] as string;
    expect(ALLOWED.core.includes(layerOf(target))).toBe(false);
    expect(relative('ts', target)).toBe('node/cli.ts');
  });
});

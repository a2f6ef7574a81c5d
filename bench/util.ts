import { Bench } from 'tinybench';
import { useBackend } from '../ts/index.js';

/** Runs `fn` with the given m2m backend active (the public API, as users call it). */
export function on<T>(kind: 'native' | 'wasm', fn: () => T): T {
  useBackend(kind);
  return fn();
}

/** One row of a comparison: a task's name, its mean time and ops/s. */
export interface Row {
  name: string;
  meanUs: number;
  opsPerSec: number;
}

/**
 * Runs tasks in one process on the same input and returns their rows
 * (tinybench): each task for `time` ms, or at least `iterations` times when
 * given (for slow tasks, where tinybench's default minimum is too many).
 */
export async function measure(tasks: Record<string, () => unknown>, time = 300, iterations?: number): Promise<Row[]> {
  const bench = new Bench(
    iterations === undefined
      ? { time, warmupTime: 100 }
      : { time, warmupTime: 0, iterations, warmupIterations: Math.min(2, iterations) },
  );
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number }; throughput?: { mean: number } } | undefined;
    const meanMs = r?.latency?.mean ?? Number.NaN;
    return { name: t.name, meanUs: meanMs * 1000, opsPerSec: 1000 / meanMs };
  });
}

/** Prints rows as a table with each row's speed relative to `baseline` (×, higher is faster). */
export function report(title: string, rows: Row[], baseline: string, bytes?: number): void {
  const base = rows.find((r) => r.name === baseline);
  console.log(`\n${title}`);
  for (const r of rows) {
    const ratio = base ? base.meanUs / r.meanUs : Number.NaN;
    const mbs = bytes ? `  ${(((bytes / r.meanUs) * 1e6) / 1e6).toFixed(1).padStart(7)} MB/s` : '';
    console.log(
      `  ${r.name.padEnd(28)} ${r.meanUs.toFixed(2).padStart(10)} µs${mbs}  ${ratio.toFixed(2).padStart(6)}× vs ${baseline}`,
    );
  }
}

/**
 * The median of `xs` (not modified): the middle value, or for an even count
 * the mean of the two middle values. NaN when `xs` is empty.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** One Markdown table row: `| a | b | c |`. */
export function mdRow(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * A Markdown table's first two lines, the header row and its `| --- |`
 * separator (default alignment). Rows follow with `mdRow`, so a table can be
 * printed a row at a time as it is measured.
 */
export function mdHeader(columns: readonly string[]): [string, string] {
  return [mdRow(columns), mdRow(columns.map(() => '---'))];
}

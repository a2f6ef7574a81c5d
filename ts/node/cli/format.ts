/** Plain-text rendering for the CLI: aligned tables and numbers. */

export interface Column {
  title: string;
  align?: 'left' | 'right';
}

/**
 * An aligned table, two spaces between columns, no trailing spaces. A row
 * with fewer cells than columns lets its last cell run on (e.g. an error
 * message) without widening the columns.
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) =>
    Math.max(
      c.title.length,
      ...rows.map((r) => (r.length < columns.length && i >= r.length - 1 ? 0 : (r[i] ?? '').length)),
    ),
  );
  const line = (cells: readonly string[]) =>
    columns
      .slice(0, cells.length)
      .map((c, i) => {
        if (cells.length < columns.length && i === cells.length - 1) return cells[i] ?? '';
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...rows.map(line)].join('\n');
}

/** 12345 → "12,345". */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 35.4 → "35.4%", -5 → "-5.0%". */
export function pct(n: number | undefined): string {
  return n === undefined ? '-' : `${n.toFixed(1)}%`;
}

/** Percentage saved, one decimal (0 when there is nothing to save from). */
export function savedPercent(original: number, wire: number): number {
  return original === 0 ? 0 : Math.round(((original - wire) / original) * 1000) / 10;
}

/** 16777216 → "16 MiB", 1536 → "1.5 KiB", 100 → "100 bytes". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n;
  let unit = '';
  for (const u of units) {
    v /= 1024;
    unit = u;
    if (v < 1024) break;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
}

/** Shortens a one-line message for a table cell. */
export function clip(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

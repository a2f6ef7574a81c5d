/**
 * Measures the security scanner on the labelled set in eval/security/*.jsonl
 * (one `{text, label, note?}` per line; label `benign` or a threat type).
 *
 * Run: npx tsx scripts/eval-security.ts [--json] [--verbose] [--threshold 0.8]
 *
 * An example of type T counts as detected when the scan reports a threat of
 * type T at or above the threshold (a different type does not count; the
 * "any type" column shows how many were flagged at all). A benign example is
 * a false positive when any threat reaches the threshold.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ScanResult, scan, THREAT_TYPES, type ThreatType } from '../ts/security.js';

interface Example {
  text: string;
  label: 'benign' | ThreatType;
  note?: string;
  file: string;
  line: number;
}

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const verbose = args.includes('--verbose');
const tIndex = args.indexOf('--threshold');
const threshold = tIndex >= 0 ? Number(args[tIndex + 1]) : 0.8;
if (!(threshold >= 0 && threshold <= 1)) throw new Error('--threshold must be a number from 0 to 1');

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'eval', 'security');
const examples: Example[] = [];
for (const file of readdirSync(root).filter((f) => f.endsWith('.jsonl'))) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const row = JSON.parse(line) as Omit<Example, 'file' | 'line'>;
    if (row.label !== 'benign' && !(THREAT_TYPES as readonly string[]).includes(row.label)) {
      throw new Error(`${file}:${i + 1}: unknown label ${row.label}`);
    }
    examples.push({ ...row, file, line: i + 1 });
  });
}

// Scan once at threshold 0 (all findings kept); judge at any threshold afterwards.
const results = examples.map((e) => ({ e, r: scan(e.text, { threshold: 0 }) }));

const maxOf = (r: ScanResult, type?: ThreatType) =>
  r.threats.filter((t) => type === undefined || t.type === type).reduce((m, t) => Math.max(m, t.confidence), 0);

function measure(th: number, file?: string) {
  const perType: Record<string, { total: number; detected: number; anyType: number }> = {};
  for (const t of THREAT_TYPES) perType[t] = { total: 0, detected: 0, anyType: 0 };
  let benign = 0;
  let fp = 0;
  for (const { e, r } of results) {
    if (file !== undefined && e.file !== file) continue;
    if (e.label === 'benign') {
      benign++;
      if (maxOf(r) >= th) fp++;
    } else {
      const s = perType[e.label] as { total: number; detected: number; anyType: number };
      s.total++;
      if (maxOf(r, e.label) >= th) s.detected++;
      if (maxOf(r) >= th) s.anyType++;
    }
  }
  const malicious = Object.values(perType).reduce((a, s) => a + s.total, 0);
  const detected = Object.values(perType).reduce((a, s) => a + s.detected, 0);
  return { threshold: th, perType, benign, falsePositives: fp, fpRate: fp / benign, malicious, detected };
}

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);
const main = measure(threshold);
const sweep = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95].map((t) => measure(t));
const files = [...new Set(examples.map((e) => e.file))].sort();
const perFile = files.map((f) => ({ file: f, m: measure(threshold, f) }));

if (asJson) {
  console.log(
    JSON.stringify(
      {
        examples: examples.length,
        threshold,
        detection: Object.fromEntries(
          Object.entries(main.perType).map(([k, s]) => [k, { ...s, rate: s.total ? s.detected / s.total : null }]),
        ),
        falsePositiveRate: main.fpRate,
        perFile: perFile.map(({ file, m }) => ({
          file,
          detectionRate: m.detected / m.malicious,
          falsePositiveRate: m.fpRate,
          perType: Object.fromEntries(
            Object.entries(m.perType).map(([k, s]) => [k, s.total ? s.detected / s.total : null]),
          ),
        })),
        falsePositives: main.falsePositives,
        benign: main.benign,
        sweep: sweep.map((m) => ({
          threshold: m.threshold,
          detectionRate: m.detected / m.malicious,
          falsePositiveRate: m.fpRate,
          perType: Object.fromEntries(
            Object.entries(m.perType).map(([k, s]) => [k, s.total ? s.detected / s.total : null]),
          ),
        })),
      },
      null,
      2,
    ),
  );
} else {
  console.log(`Security scanner evaluation: ${examples.length} examples from ${root}\n`);
  console.log(`Threshold ${threshold}:`);
  console.table(
    Object.fromEntries(
      Object.entries(main.perType).map(([k, s]) => [
        k,
        {
          examples: s.total,
          detected: s.detected,
          rate: pct(s.detected, s.total),
          'flagged (any type)': pct(s.anyType, s.total),
        },
      ]),
    ),
  );
  console.log(
    `Overall detection: ${pct(main.detected, main.malicious)} of ${main.malicious}; ` +
      `false positives: ${main.falsePositives} of ${main.benign} benign (${pct(main.falsePositives, main.benign)})\n`,
  );
  console.log(`Per file (threshold ${threshold}):`);
  console.table(
    perFile.map(({ file, m }) => ({
      file,
      detection: `${pct(m.detected, m.malicious)} of ${m.malicious}`,
      ...Object.fromEntries(Object.entries(m.perType).map(([k, s]) => [k, `${s.detected}/${s.total}`])),
      'FP rate': `${pct(m.falsePositives, m.benign)} of ${m.benign}`,
    })),
  );
  console.log('Threshold sweep:');
  console.table(
    sweep.map((m) => ({
      threshold: m.threshold,
      detection: pct(m.detected, m.malicious),
      ...Object.fromEntries(Object.entries(m.perType).map(([k, s]) => [k, pct(s.detected, s.total)])),
      'FP rate': pct(m.falsePositives, m.benign),
    })),
  );
  if (verbose) {
    console.log('\nMissed:');
    for (const { e, r } of results) {
      if (e.label !== 'benign' && maxOf(r, e.label) < threshold) {
        console.log(
          `  ${e.label} ${e.file}:${e.line} max=${maxOf(r, e.label)} ${JSON.stringify(e.text.slice(0, 100))}`,
        );
      }
    }
    console.log('\nFalse positives:');
    for (const { e, r } of results) {
      if (e.label === 'benign' && maxOf(r) >= threshold) {
        const top = r.threats[0];
        console.log(`  ${e.file}:${e.line} ${top?.rule}@${top?.confidence} ${JSON.stringify(e.text.slice(0, 100))}`);
      }
    }
  }
}

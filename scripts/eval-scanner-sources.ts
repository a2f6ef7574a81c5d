/**
 * The whole scanner (rules, classifier, both) on the collections of
 * ../shared/data/security-train that the shipped model was NOT trained on (the
 * `eval_only` list of eval/security/model-report.json, written by
 * scripts/train-scanner/train.py): recall per label and false positives per
 * benign source, at the default threshold.
 *
 * Run: npx tsx scripts/eval-scanner-sources.ts [--json] [--all]
 * (`--all` also scores the collections the model was trained on, which flatters it.)
 */
import { readFileSync } from 'node:fs';
import { scan } from '../ts/security.js';

interface Row {
  id: string;
  label: string;
  text: string;
  collector: string;
}

const args = process.argv.slice(2);
const report = JSON.parse(readFileSync(new URL('../eval/security/model-report.json', import.meta.url), 'utf8')) as {
  eval_only: string[];
};
const heldOut = new Set(report.eval_only);
const rows: Row[] = readFileSync(new URL('../../shared/data/security-train/train.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const r = JSON.parse(l) as Omit<Row, 'collector'>;
    return { ...r, collector: r.id.slice(0, r.id.lastIndexOf('-')) };
  })
  .filter((r) => args.includes('--all') || heldOut.has(r.collector));

const FAMILY = new Set(['PROMPT_INJECTION', 'JAILBREAK', 'DATA_EXFILTRATION']);
const variants = {
  rules: { model: false },
  model: { disabledRules: ['injection.', 'jailbreak.', 'exfiltration.'] },
  'rules+model': {},
} as const;

type Tally = Record<string, { n: number; flagged: number }>;
const out: Record<string, { labels: Tally; benign: Tally }> = {};
for (const [name, options] of Object.entries(variants)) {
  const labels: Tally = {};
  const benign: Tally = {};
  for (const r of rows) {
    const res = scan(r.text, options);
    const hit = res.threats.some((t) => FAMILY.has(t.type) && t.confidence >= res.threshold);
    const key = r.label === 'benign' ? r.collector : r.label;
    const into = r.label === 'benign' ? benign : labels;
    into[key] ??= { n: 0, flagged: 0 };
    (into[key] as { n: number; flagged: number }).n++;
    if (hit) (into[key] as { n: number; flagged: number }).flagged++;
    if (r.label !== 'benign') {
      labels['all attacks'] ??= { n: 0, flagged: 0 };
      labels['all attacks'].n++;
      if (hit) labels['all attacks'].flagged++;
    } else {
      benign['all benign'] ??= { n: 0, flagged: 0 };
      benign['all benign'].n++;
      if (hit) benign['all benign'].flagged++;
    }
  }
  out[name] = { labels, benign };
}

if (args.includes('--json')) console.log(JSON.stringify(out, null, 1));
else {
  const pct = (t: { n: number; flagged: number } | undefined) =>
    t ? `${((100 * t.flagged) / t.n).toFixed(1)}% of ${t.n}` : '-';
  const names = Object.keys(variants);
  const keys = (k: 'labels' | 'benign') => [...new Set(names.flatMap((n) => Object.keys(out[n]?.[k] ?? {})))].sort();
  console.log(`| ${['', ...names].join(' | ')} |\n|${' --- |'.repeat(names.length + 1)}`);
  for (const k of keys('labels'))
    console.log(`| recall ${k} | ${names.map((n) => pct(out[n]?.labels[k])).join(' | ')} |`);
  for (const k of keys('benign'))
    console.log(`| flagged ${k} | ${names.map((n) => pct(out[n]?.benign[k])).join(' | ')} |`);
}

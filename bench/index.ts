/**
 * `npm run bench`: every in-process benchmark, one after another, each in its
 * own process (so one's memory and JIT state cannot colour another's). Each
 * prints its tables; the tokenizer and savings benchmarks write Markdown to
 * `bench/results/`, and the output of the others is saved there as text.
 *
 * The server load benchmark (`bench/load.ts`, several minutes) is separate.
 * `npm run bench -- --quick` runs shorter versions.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const quick = process.argv.includes('--quick');
const SUITES: [name: string, args: string[], writesOwn: boolean][] = [
  ['tokenize', quick ? ['--quick'] : [], true],
  ['boundary', quick ? ['--quick'] : [], false],
  ['codec', quick ? ['--quick'] : [], false],
  ['frame', quick ? ['--quick'] : [], false],
  ['session-keys', quick ? ['--quick'] : [], false],
  ['brotli', quick ? ['--quick'] : [], false],
  ['savings', quick ? ['--quick'] : [], true],
  ['auto', quick ? ['--count', '300'] : [], false],
  ['traffic', quick ? [] : ['--write'], true],
  ['scan', [], false],
  ['classify', [], false],
  ['load-encodings', [], false],
];

const results = new URL('./results/', import.meta.url);
mkdirSync(results, { recursive: true });
const tsx = new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url).pathname;
let failed = false;
for (const [name, args, writesOwn] of SUITES) {
  console.log(`\n=== bench/${name}.ts ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [tsx, new URL(`./${name}.ts`, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) {
    console.error(`bench/${name}.ts failed (exit ${run.status})`);
    failed = true;
  } else if (!writesOwn && !quick) {
    writeFileSync(new URL(`${name}.txt`, results), run.stdout);
  }
}
process.exit(failed ? 1 : 0);

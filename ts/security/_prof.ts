import { skeletonize } from '/work/main/ts/security/normalize.js';
import { RULES } from '/work/main/ts/security/rules.js';
import { scanCharacters } from '/work/main/ts/security/unicode.js';
import { findEncoded } from '/work/main/ts/security/decode.js';
const WORDS = 'the a of to and in is it that for on with as this be are was by at or from you your we can will an not function return value data user request response error system service message instructions previous configuration server client model token cache file path environment variable password reset ignore rules policy update deploy'.split(' ');
let s = ''; let x = 1; while (s.length < 10240) { x = (x * 1103515245 + 12345) & 0x7fffffff; s += WORDS[x % WORDS.length] + (x % 7 === 0 ? '. ' : ' '); }
const t = (name: string, f: () => void) => { for (let i = 0; i < 50; i++) f(); const t0 = performance.now(); for (let i = 0; i < 300; i++) f(); console.log(name, ((performance.now() - t0) / 300).toFixed(4), 'ms'); };
const sk = skeletonize(s);
t('skeleton', () => skeletonize(s));
t('chars', () => scanCharacters(s));
t('decode', () => findEncoded(s, { remaining: 1e6 }));
const times: [string, number][] = [];
for (const r of RULES) {
  const subj = r.view === 'raw' ? s : sk.text;
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) { r.re.lastIndex = 0; while (r.re.exec(subj)) {} }
  times.push([r.id, (performance.now() - t0) / 200]);
}
times.sort((a, b) => b[1] - a[1]);
console.log('rules total', times.reduce((a, b) => a + b[1], 0).toFixed(4));
console.log(times.slice(0, 15).map(([a, b]) => `${a} ${b.toFixed(4)}`).join('\n'));

import { skeletonize } from './normalize.js';
import { RULES } from './rules.js';
function rng(seed: number) { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const WORDS = ('the a of to and in is it that for on with as this be are was by at or from you your we can will an not function return value data user request response error system service message instructions previous configuration server client model token cache file path environment variable password reset ignore rules policy update deploy build test release version api key query database table index schema please could you help me write explain summarize translate review refactor improve check why how what when where which document report meeting customer order invoice payment shipping product feature bug').split(' ');
const r = rng(3); let s = ''; while (s.length < 10240) { const n = 6 + Math.floor(r() * 14); const w = []; for (let i = 0; i < n; i++) w.push(WORDS[Math.floor(r() * WORDS.length)]); s += w.join(' ') + '. '; }
const sk = skeletonize(s);
const keys = new Map<number, number>();
for (const k of sk.keys) keys.set(k, (keys.get(k) ?? 0) + 1);
let total = 0; const per: [string, number][] = [];
for (const r of RULES) { if (!r.triggerKeys) continue; let n = 0; for (let w = 0; w < sk.keys.length; w++) { const k3 = sk.keys[w]!; const ks = new Set([k3, k3 | 511, k3 | ((511 << 9) | 511)]); if (k3 === (k3 | 511)) ks.add(k3 | (1 << 27)); if (r.triggerKeys.some((t) => ks.has(t))) n++; } total += n; per.push([r.id, n]); }
per.sort((a, b) => b[1] - a[1]); console.log('words', sk.keys.length, 'attempts', total); console.log(per.slice(0, 12));

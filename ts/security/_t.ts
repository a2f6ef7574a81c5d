import { RULES } from '/work/main/ts/security/rules.js';
for (const r of RULES) if (r.view==='skeleton') console.log(r.id, r.cjk, r.triggers?.join(',') ?? 'NULL');

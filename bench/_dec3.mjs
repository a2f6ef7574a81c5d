const fs = await import('node:fs');
const g = await import('gpt-tokenizer/encoding/cl100k_base');
const kind = process.env.M2M_BACKEND;
const m = await import(process.env.DIST);
const bench=(f)=>{ let last; for(let r=0;r<3;r++){const n=20000; const t0=process.hrtime.bigint(); for(let i=0;i<n;i++) f(); last=Number(process.hrtime.bigint()-t0)/n;} return last;};
for (const file of ['/tmp/chat1k.txt','/tmp/chat10k.txt']) {
  const t = fs.readFileSync(file,'utf8'); const ids = m.encode(t,'cl100k_base'); const gids=g.encode(t);
  const a = bench(()=>m.decode(ids,'cl100k_base')); const c = bench(()=>g.decode(gids));
  console.log(kind, file, (a/1000).toFixed(2),'us vs gpt', (c/1000).toFixed(2), 'ratio', (c/a).toFixed(2));
}

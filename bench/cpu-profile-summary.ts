/**
 * Where a process's busy time went, from a V8 CPU profile (`node --cpu-prof`): self time by part
 * (the AWS SDK, Node's HTTP, zod, the local gateway, the load generator, the service's own code,
 * garbage collection…) as shares of the busy time (idle left out; a native frame counted with the
 * script that called it), and the service's own functions
 * with the most self time. Shares, not milliseconds: on a shared machine they are the steadier figure.
 *
 *   npx tsx bench/cpu-profile-summary.ts .tmp/prof/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The part of the program a frame belongs to (first match wins). */
const PARTS: Array<[string, (url: string, fn: string) => boolean]> = [
  ['idle', (_u, f) => f === '(idle)'],
  ['garbage collection', (_u, f) => f === '(garbage collector)'],
  ['V8 / native (program)', (_u, f) => f === '(program)' || f === '(root)'],
  ['AWS SDK (@aws-sdk, @smithy)', (u) => /node_modules\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser)/.test(u)],
  ['zod', (u) => /node_modules\/zod\//.test(u)],
  ['middy', (u) => /node_modules\/@middy\//.test(u)],
  ['JWT (jose)', (u) => /node_modules\/jose\//.test(u)],
  ['other dependencies', (u) => /node_modules\//.test(u)],
  ['load generator (bench/)', (u) => /\/bench\//.test(u)],
  ['local gateway and runtime (local/)', (u) => /\/local\//.test(u)],
  ['API routes and router (functions/api/)', (u) => /\/functions\/api\//.test(u)],
  ['ingest, rollup and other handlers (functions/)', (u) => /\/functions\//.test(u)],
  ['service: stores (shared/store/)', (u) => /\/shared\/store\//.test(u)],
  ['service: use cases (shared/app/)', (u) => /\/shared\/app\//.test(u)],
  ['service: domain and the rest of shared/', (u) => /\/shared\//.test(u)],
  ['Node HTTP client (undici, fetch)', (u) => /undici|internal\/deps\/|fetch/.test(u)],
  ['Node HTTP server, net, streams', (u) => /node:(_http|http|net|internal\/(http|stream|streams|net))/.test(u)],
  ['Node other', (u) => u.startsWith('node:')],
  ['native, called from no script', () => true],
];

export function summarise(profile: Profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // A native frame (no script: writev, JSON.parse, a builtin) is counted with the script that called it.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const scriptOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      if (url) return url;
    }
    return '';
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  const scripts = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName: fn, lineNumber } = byId.get(id)!.callFrame;
    const url = fn.startsWith('(') ? '' : scriptOf(id);
    const part = PARTS.find(([, test]) => test(url, fn))![0];
    parts.set(part, (parts.get(part) ?? 0) + us);
    if (part === 'idle') continue;
    busy += us;
    const script = url
      .replace(/^.*node_modules\//, '')
      .replace(/^file:\/\/.*?\/(shared|functions|local|bench)\//, '$1/');
    scripts.set(script, (scripts.get(script) ?? 0) + us);
    if (/\/(shared|functions)\//.test(url)) {
      const name = `${fn || '(anonymous)'} ${url.replace(/^.*\/(shared|functions)\//, '$1/')}:${lineNumber + 1}`;
      functions.set(name, (functions.get(name) ?? 0) + us);
    }
  }
  const fn0 = '(no script: GC, V8)';
  const share = (us: number) => `${((100 * us) / busy).toFixed(1)} %`;
  return {
    busySeconds: +(busy / 1e6).toFixed(2),
    idleSeconds: +((parts.get('idle') ?? 0) / 1e6).toFixed(2),
    parts: [...parts]
      .filter(([p]) => p !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([p, us]) => `${share(us).padStart(7)}  ${p}`),
    scripts: [...scripts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, us]) => `${share(us).padStart(7)}  ${f || fn0}`),
    serviceFunctions: [...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, us]) => `${share(us).padStart(7)}  ${f}`),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  for (const file of positionals) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top ?? 25));
    console.log(`${file}: busy ${s.busySeconds} s, idle ${s.idleSeconds} s`);
    console.log(`  by part (share of busy time):\n    ${s.parts.join('\n    ')}`);
    console.log(`  by script (share of busy time):\n    ${s.scripts.join('\n    ')}`);
    console.log(`  the service's own functions (self time):\n    ${s.serviceFunctions.join('\n    ')}`);
  }
}

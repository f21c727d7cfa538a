/**
 * Item 4: per-Lambda bundle size and cold import time. Each functions/<name>/handler.ts is bundled
 * with esbuild the way lib/function-with-log-group.ts has CDK bundle it (ESM, minified, everything
 * bundled, `require` defined by a banner), then a fresh `node` process imports the bundle: the time of
 * the import itself and the time from process start (what a Lambda cold start adds to the runtime's
 * own start), median of several processes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { median, round } from './measure.js';

const run = promisify(execFile);

export interface BundleFigures {
  name: string;
  bytes: number;
  gzipBytes: number;
  /** Median ms for `await import(bundle)` in a fresh process. */
  importMs: number;
  /** Median ms from process start to the import done. */
  sinceStartMs: number;
  processes: number;
  target: string;
  error?: string;
}

/** The banner lib/function-with-log-group.ts gives every bundle. */
const BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

export async function bundleFigures(root: string, outDir: string, processes: number): Promise<BundleFigures[]> {
  mkdirSync(outDir, { recursive: true });
  const names = readdirSync(join(root, 'functions'))
    .filter((n) => existsSync(join(root, 'functions', n, 'handler.ts')))
    .sort();
  const out: BundleFigures[] = [];
  for (const name of names) {
    const outfile = join(outDir, `${name}.mjs`);
    // Lambda runs nodejs22.x (lib's esbuild target node22); this machine runs Node 20, whose syntax
    // node22 output may exceed, so the bundle imported here targets node20 (sizes differ by bytes).
    const target = process.versions.node.startsWith('20.') ? 'node20' : 'node22';
    await build({
      entryPoints: [join(root, 'functions', name, 'handler.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target,
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      mainFields: ['module', 'main'],
      banner: { js: BANNER },
      logLevel: 'silent',
    });
    const bytes = statSync(outfile).size;
    const gzipBytes = gzipSync(readFileSync(outfile)).length;
    const imports: number[] = [];
    const sinceStart: number[] = [];
    let error: string | undefined;
    const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(resolve(outfile)).href)}); const t1 = performance.now(); process.stdout.write(JSON.stringify({ importMs: t1 - t0, sinceStartMs: t1 }));`;
    for (let i = 0; i < processes; i++) {
      try {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
          env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-2', NODE_OPTIONS: '' },
          timeout: 30_000,
        });
        const r = JSON.parse(stdout) as { importMs: number; sinceStartMs: number };
        imports.push(r.importMs);
        sinceStart.push(r.sinceStartMs);
      } catch (err) {
        error = (err as Error).message.split('\n')[0];
        break;
      }
    }
    out.push({
      name,
      bytes,
      gzipBytes,
      importMs: round(median(imports)),
      sinceStartMs: round(median(sinceStart)),
      processes: imports.length,
      target,
      ...(error ? { error } : {}),
    });
  }
  return out;
}

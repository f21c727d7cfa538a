/**
 * Builds the web app into web/dist (or another directory): app.js bundled by esbuild (the one
 * bundler), app.css (GOV.UK Frontend's stylesheet plus ours), index.html. `npm start` builds it on
 * start; `npm run build:web` builds it alone (CDK deploys web/dist to S3).
 *
 * The stylesheet drops GOV.UK Frontend's GDS Transport font, which only GOV.UK services may use: an
 * LA's service uses the design system's fallback, Arial.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const WEB_SRC = join(here, 'src');
const WEB_DIST = join(here, 'dist');

/** Each page loads app.js: the whole app's JavaScript must stay under this, gzipped (CONVENTIONS "Web"). */
export const MAX_GZIPPED_JS_BYTES = 250 * 1024;

export interface WebBuild {
  outDir: string;
  jsBytes: number;
  jsGzipBytes: number;
}

function govukCss(): string {
  const css = readFileSync(
    join(here, '..', 'node_modules', 'govuk-frontend', 'dist', 'govuk', 'govuk-frontend.min.css'),
    'utf8',
  );
  return css
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '')
    .replace(/@font-face\{font-family:GDS Transport;[^}]*\}/g, '')
    .replace(/font-family:GDS Transport,arial,sans-serif/g, 'font-family:arial,sans-serif')
    .replace(/font-family:GDS Transport/g, 'font-family:arial,sans-serif');
}

export async function buildWeb(outDir = WEB_DIST, options: { minify?: boolean } = {}): Promise<WebBuild> {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(WEB_SRC, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    tsconfig: join(here, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    outfile: join(out, 'app.js'),
    logLevel: 'silent',
  });
  writeFileSync(join(out, 'app.css'), `${govukCss()}\n${readFileSync(join(WEB_SRC, 'app.css'), 'utf8')}`);
  copyFileSync(join(WEB_SRC, 'index.html'), join(out, 'index.html'));
  const js = readFileSync(join(out, 'app.js'));
  return { outDir: out, jsBytes: js.length, jsGzipBytes: gzipSync(js).length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildWeb(process.argv[2] ?? WEB_DIST);
  process.stdout.write(
    `web app built in ${built.outDir}: app.js ${built.jsBytes} bytes (${built.jsGzipBytes} gzipped)\n`,
  );
  if (built.jsGzipBytes > MAX_GZIPPED_JS_BYTES) {
    process.stderr.write(`app.js is over ${MAX_GZIPPED_JS_BYTES} bytes gzipped\n`);
    process.exitCode = 1;
  }
}

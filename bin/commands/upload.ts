/**
 * `npm run --silent cli -- upload DIR|FILE --token T [--url U] [--concurrency N]`: uploads returns
 * through the API with a progress bar and a summary; exits non-zero when any file is rejected.
 * A directory with a manifest.json (as `generate` writes) is uploaded in the manifest's order;
 * otherwise every .csv and .xml file below it, by name.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { progressBar, uploadAll, type UploadItem } from '../../local/uploader.js';
import { readManifest } from '../../local/manifest.js';
import { port } from '../../local/settings.js';
import { numberOption, parseArgs, stringOption } from './args.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (/\.(csv|xml)$/i.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** The URN of a daily return from its first data row (lanes keep one school's files in order). */
function urnOf(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const lines = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/);
    const header = lines[0]?.split(',').map((h) => h.trim().toLowerCase()) ?? [];
    const i = header.indexOf('urn');
    return i >= 0 ? lines[1]?.split(',')[i]?.trim() : undefined;
  } finally {
    closeSync(fd);
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  const target = parsed.positional[0];
  const token = stringOption(parsed, 'token', process.env.ATTENDANCE_HUB_TOKEN);
  const url = (stringOption(parsed, 'url') ?? `http://127.0.0.1:${port()}`).replace(/\/$/, '');
  if (!target || !token) {
    process.stderr.write('usage: upload DIR|FILE --token T [--url http://127.0.0.1:3000] [--concurrency 4]\n');
    return 2;
  }
  if (!existsSync(target)) {
    process.stderr.write(`no such file or directory: ${target}\n`);
    return 2;
  }
  let items: UploadItem[];
  if (statSync(target).isDirectory()) {
    const manifest = readManifest(target);
    items = manifest
      ? manifest.map((m) => ({ path: m.path, lane: m.urn, urn: m.urn, token }))
      : filesUnder(target).map((p) => ({ path: p, lane: urnOf(p) ?? p, urn: urnOf(p), token }));
  } else {
    items = [{ path: target, lane: target, urn: urnOf(target), token }];
  }
  if (items.length === 0) {
    process.stderr.write(`no .csv or .xml files under ${target}\n`);
    return 2;
  }
  const summary = await uploadAll(items, {
    url,
    concurrency: numberOption(parsed, 'concurrency', 4),
    onProgress: progressBar('uploading'),
  });
  for (const o of summary.outcomes.filter((x) => x.status === 'rejected' || x.status === 'processing')) {
    process.stderr.write(
      `  ${o.status}: ${relative(process.cwd(), o.path)}${o.returnId ? ` (return ${o.returnId})` : ''} — ${o.detail ?? `HTTP ${o.httpStatus}`}\n`,
    );
  }
  process.stdout.write(
    `${summary.files} files in ${summary.seconds.toFixed(1)} s: ${summary.accepted} accepted, ${summary.acceptedWithErrors} accepted with row errors, ` +
      `${summary.rejected} rejected; ${summary.rowsAccepted} rows accepted, ${summary.rowsRejected} rows rejected\n`,
  );
  return summary.rejected > 0 || summary.outcomes.some((o) => o.status === 'processing') ? 1 : 0;
}

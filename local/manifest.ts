/** Reading the upload manifest a generated LA carries (local/synthetic writes it). */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface ManifestEntry {
  /** Absolute path of the file. */
  path: string;
  urn: string;
  /** Who uploads it: the school itself, or the Virtual School for an out-of-area school. */
  role: 'school' | 'vsh' | 'la_officer';
  kind?: string;
}

/** The manifest's entries in upload order, or undefined when the directory has none. */
export function readManifest(dir: string): ManifestEntry[] | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const list = (
    Array.isArray(raw)
      ? raw
      : ((raw as { files?: unknown[]; uploads?: unknown[] }).files ?? (raw as { uploads?: unknown[] }).uploads ?? [])
  ) as Array<Record<string, unknown>>;
  return list.map((e) => ({
    path: isAbsolute(String(e.path)) ? String(e.path) : join(dir, String(e.path)),
    urn: String(e.urn),
    role: e.role === 'vsh' ? 'vsh' : e.role === 'la_officer' ? 'la_officer' : 'school',
    kind: e.kind === undefined ? undefined : String(e.kind),
  }));
}

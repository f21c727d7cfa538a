/**
 * One Node line for the project (issue 15, item 10): the Lambda runtime, the bundle's target and
 * package.json `engines` agree, and every locked dependency accepts every supported Node version,
 * so `npm ci` prints no EBADENGINE warning on any of them. The supported versions are the lowest
 * of each `engines` range (Node 20 for the local runtime, tests and CI; Node 22 in Lambda) and the
 * Node running this test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { ESBUILD_TARGET, PROJECT_ROOT, RUNTIME } from '../../lib/function-with-log-group.js';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<
    string,
    { version?: string; engines?: { node?: string } | string[]; optional?: boolean; os?: string[]; cpu?: string[] }
  >;
};
const engines = pkg.engines.node;
const supported = [
  ...engines.split('||').map((r) => semver.minVersion(r.trim())?.version as string),
  process.versions.node,
];

describe('one Node line', () => {
  it(`declares engines ${engines}: a Node 20 line (local, CI) and the Lambda runtime's line`, () => {
    const lambdaMajor = Number(/^nodejs(\d+)\.x$/.exec(RUNTIME.name)?.[1]);
    expect(lambdaMajor).toBe(22);
    expect(ESBUILD_TARGET).toBe(`node${lambdaMajor}`);
    expect(semver.intersects(engines, `${lambdaMajor}.x`)).toBe(true);
    expect(semver.intersects(engines, '20.x')).toBe(true);
    expect(
      supported
        .slice(0, 2)
        .map((v) => semver.major(v))
        .sort(),
    ).toEqual([20, lambdaMajor]);
    expect(
      semver.satisfies(process.versions.node, engines),
      `this Node (${process.versions.node}) is not one the project supports`,
    ).toBe(true);
  });

  it.each(supported)('every locked dependency accepts Node %s (no EBADENGINE from npm ci)', (version) => {
    const refused: string[] = [];
    for (const [path, info] of Object.entries(lock.packages)) {
      const range = info.engines && !Array.isArray(info.engines) ? info.engines.node : undefined;
      // Optional platform packages (wasm, other CPUs) are never installed here, so never checked by npm.
      if (!path || !range || (info.optional && (info.cpu || info.os))) continue;
      if (!semver.satisfies(version, range, { includePrerelease: true }))
        refused.push(`${path.replace(/^.*node_modules\//, '')}@${info.version} wants node ${range}`);
    }
    expect(refused).toEqual([]);
  });
});

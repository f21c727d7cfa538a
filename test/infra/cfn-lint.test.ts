/**
 * The synthesised template passes cfn-lint (AWS's CloudFormation linter: resource schemas, property
 * types, references, Region availability) with 0 errors, beside cdk-nag's checks in
 * attendance-hub-stack.test.ts. cdk-nag checks good practice; cfn-lint catches what CloudFormation
 * itself would refuse at deployment: an unknown property, a wrong type, a runtime or value outside
 * its enumeration, a broken reference. (It does not look inside untyped JSON properties such as an
 * HTTP API stage's RouteSettings; attendance-hub-stack.test.ts asserts those keys.)
 *
 * cfn-lint is a Python tool (pinned 1.51.0; `.ci/run` installs it when missing). This test fails,
 * never skips, when it cannot be found: set CFN_LINT to its path or put it on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAttendanceHubApp } from '../../lib/attendance-hub-app.js';
import { PROJECT_ROOT } from '../../lib/function-with-log-group.js';

const CFN_LINT_VERSION = '1.51.0';
/** Regions an LA deploys to: London, and Ireland as the usual second choice. */
const REGIONS = ['eu-west-2', 'eu-west-1'];

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

let found: string | undefined;

function cfnLintBinary(): string {
  if (found) return found;
  const candidates = [process.env.CFN_LINT, 'cfn-lint', '/root/.pyenv/shims/cfn-lint'].filter((c): c is string =>
    Boolean(c),
  );
  for (const c of candidates) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return (found = c);
  }
  throw new Error(
    `cfn-lint ${CFN_LINT_VERSION} was not found (tried ${candidates.join(', ')}): install it with ` +
      `\`python3 -m pip install cfn-lint==${CFN_LINT_VERSION}\` (or run .ci/run), or set CFN_LINT to its path.`,
  );
}

function lint(templatePath: string): Finding[] {
  const out = execFileSync(
    cfnLintBinary(),
    ['--format', 'json', '--non-zero-exit-code', 'none', '--regions', ...REGIONS, '--', templatePath],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out) as Finding[];
}

const errorsOf = (findings: Finding[]) =>
  findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`);

let dir: string;
let templatePath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
  const context = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
  // With the optional notifications (SES identity, schedules) on, so every resource the stack can have is linted.
  const notifications = { notificationsFrom: 'attendance@hub.example.gov.uk', sesIdentity: 'hub.example.gov.uk' };
  const { app, stack } = buildAttendanceHubApp({
    outdir: join(dir, 'cdk.out'),
    context: { ...context, 'aws:cdk:bundling-stacks': [], ...notifications },
  });
  templatePath = app.synth().getStackByName(stack.stackName).templateFullPath;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  it(`is installed at the pinned version ${CFN_LINT_VERSION}`, () => {
    expect(execFileSync(cfnLintBinary(), ['--version'], { encoding: 'utf8' }).trim()).toBe(
      `cfn-lint ${CFN_LINT_VERSION}`,
    );
  });

  it(`finds 0 errors in the synthesised stack (${REGIONS.join(', ')})`, () => {
    expect(errorsOf(lint(templatePath))).toEqual([]);
  }, 120_000);

  it('is active: a Lambda runtime and a stage property CloudFormation does not know are errors', () => {
    const template = JSON.parse(readFileSync(templatePath, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
    };
    const fn = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime?.startsWith('nodejs'),
    );
    const stage = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
    if (!fn || !stage) throw new Error('the stack has no Node.js function or no HTTP API stage');
    fn.Properties.Runtime = 'nodejs99.x';
    stage.Properties.ThrottleSettings = { RateLimit: 10 };
    const broken = join(dir, 'broken.template.json');
    writeFileSync(broken, JSON.stringify(template));
    const errors = errorsOf(lint(broken)).join('\n');
    expect(errors).toMatch(/Runtime[\s\S]*nodejs99\.x|nodejs99\.x[\s\S]*Runtime/);
    expect(errors).toMatch(/ThrottleSettings/);
  }, 120_000);
});

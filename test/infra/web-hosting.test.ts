/**
 * The web app in AWS (issue 18): S3 behind CloudFront with origin access control and security
 * headers, config.json deployed with the API's URL and Cognito's managed login, and the app client
 * doing the authorization-code flow with PKCE (a public client: no secret, no implicit grant).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAttendanceHubApp } from '../../lib/attendance-hub-app.js';
import { PROJECT_ROOT } from '../../lib/function-with-log-group.js';

const CDK_JSON_CONTEXT = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;
let template: Template;

beforeAll(() => {
  const { stack } = buildAttendanceHubApp({
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], laCode: '201' },
  });
  template = Template.fromStack(stack);
});

describe('web hosting', () => {
  it('serves the app from a private bucket through CloudFront with origin access control, HTTPS only', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
  });

  it('sends a content security policy allowing only its own scripts, HSTS and no framing', () => {
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(policy.ContentSecurityPolicy.ContentSecurityPolicy).toMatch(/script-src 'self';/);
    expect(policy.FrameOptions.FrameOption).toBe('DENY');
    expect(policy.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31_536_000);
  });

  it('deploys the built app with a config.json naming the API and managed login', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'));
    expect(deployment).toHaveLength(1);
    const props = deployment[0].Properties;
    // The app's files and config.json (a JSON source whose markers are the deployed values).
    expect(props.SourceObjectKeys).toHaveLength(2);
    const markers = JSON.stringify(props.SourceMarkers);
    for (const value of ['ApiEndpoint', 'AuthUserPoolManagedLogin', 'AuthUserPoolApiClient', 'WebDistribution'])
      expect(markers).toContain(value);
    expect(props.DistributionPaths).toEqual(['/*']);
    expect(props.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
  });
});

describe('Cognito managed login', () => {
  it('has a managed-login domain (the newer pages) with branding', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'attendance-hub-201',
      ManagedLoginVersion: 2,
    });
    template.resourceCountIs('AWS::Cognito::ManagedLoginBranding', 1);
  });

  it('lets the app client use only the authorization-code flow, back to the web app, with no secret', () => {
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    expect(client.GenerateSecret).toBe(false);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.AllowedOAuthScopes).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    expect(JSON.stringify(client.CallbackURLs)).toMatch(/WebDistribution[0-9A-F]+","DomainName"/);
    expect(JSON.stringify(client.LogoutURLs)).toContain('signed-out=1');
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
  });

  it('still requires MFA for everyone who signs in', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });
});

import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** The four roles of docs/design.md §4, one Cognito group each; a user belongs to exactly one. */
export const ROLE_GROUPS = [
  { name: 'admin', description: 'LA administrators: calendars, school registry, audit log' },
  { name: 'la_officer', description: 'LA attendance specialists: everything in the LA, referrals' },
  { name: 'vsh', description: 'Virtual School Head: looked-after and social-care cohorts, any school' },
  { name: 'school', description: 'School attendance officers: their own URN only (custom:urn)' },
] as const;

/**
 * Custom attributes carried by ID tokens as `custom:la` and `custom:urn`. Declared mutable so an
 * administrator can correct them (AdminUpdateUserAttributes); the app client cannot write them, so
 * users cannot change their own LA or school. A pool's attribute schema can never be changed after
 * creation, hence "mutable" here: an immutable attribute could not even be corrected by an admin.
 */
const CUSTOM_ATTRIBUTES = { la: 'la', urn: 'urn' } as const;

/**
 * Cognito user pool for LA staff and schools: no self sign-up (the LA creates every account),
 * MFA required (TOTP), a strong password policy and the Plus feature plan with threat protection
 * enforced, as is proportionate for special-category data about children.
 */
export interface AuthProps {
  /**
   * The web app (issue 18): Cognito managed login on this domain prefix, with the authorization-code
   * flow and PKCE for the app client, returning to `url` (and to its sign-in page on sign-out).
   */
  web?: { url: string; domainPrefix: string };
}

/** OAuth scopes the web app asks for: the ID token carries the groups and custom:la / custom:urn. */
export const WEB_SCOPES = ['openid', 'email', 'profile'] as const;

export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly groups: Record<(typeof ROLE_GROUPS)[number]['name'], cognito.UserPoolGroup>;
  /** The managed-login domain, when the web app is hosted. */
  readonly domain?: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: AuthProps = {}) {
    super(scope, id);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        [CUSTOM_ATTRIBUTES.la]: new cognito.StringAttribute({ minLen: 3, maxLen: 3, mutable: true }),
        [CUSTOM_ATTRIBUTES.urn]: new cognito.StringAttribute({ minLen: 6, maxLen: 6, mutable: true }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      mfa: cognito.Mfa.REQUIRED,
      // TOTP only: SMS needs an SNS role and is weaker.
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      userInvitation: {
        emailSubject: 'Your Attendance Hub account',
        emailBody:
          'An Attendance Hub account has been created for you. Username: {username} Temporary password: {####} ' +
          'You will be asked to choose a new password and set up an authenticator app when you first sign in.',
      },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Lowest value = highest priority in Cognito: should a user be put in two groups by mistake,
    // the narrower role ranks first.
    const precedence: Record<string, number> = { school: 0, vsh: 1, la_officer: 2, admin: 3 };
    this.groups = Object.fromEntries(
      ROLE_GROUPS.map((g) => [
        g.name,
        this.userPool.addGroup(`Group-${g.name}`, {
          groupName: g.name,
          description: g.description,
          precedence: precedence[g.name],
        }),
      ]),
    ) as Auth['groups'];

    this.client = this.userPool.addClient('ApiClient', {
      generateSecret: false,
      // SRP for Amplify-style clients; USER_AUTH (choice-based) for passkeys and email OTP on Plus.
      authFlows: { userSrp: true, user: true },
      // The web app signs in through managed login (authorization code + PKCE: a public client, no
      // secret, no implicit grant); other clients may still sign in against the pool directly (SRP).
      ...(props.web
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
              callbackUrls: [`${props.web.url}/`],
              logoutUrls: [`${props.web.url}/?signed-out=1`],
            },
            supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      // About a working day; a new day means a new sign-in with MFA.
      refreshTokenValidity: Duration.hours(12),
      readAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes(CUSTOM_ATTRIBUTES.la, CUSTOM_ATTRIBUTES.urn),
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    if (props.web) {
      // Managed login (the newer pages, MFA as the pool requires it), styled with Cognito's defaults.
      this.domain = this.userPool.addDomain('ManagedLogin', {
        cognitoDomain: { domainPrefix: props.web.domainPrefix },
        managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
      });
      new cognito.CfnManagedLoginBranding(this, 'ManagedLoginBranding', {
        userPoolId: this.userPool.userPoolId,
        clientId: this.client.userPoolClientId,
        useCognitoProvidedValues: true,
      });
    }
  }

  /** <prefix>.auth.<region>.amazoncognito.com */
  get domainName(): string | undefined {
    return this.domain ? `${this.domain.domainName}.auth.${Stack.of(this).region}.amazoncognito.com` : undefined;
  }
}

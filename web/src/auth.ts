/**
 * Who is signed in. Locally: the local runtime's sign-in endpoint mints a token for a chosen role
 * (that endpoint does not exist in AWS). In AWS: Cognito managed login, authorization code + PKCE.
 * The session lives in sessionStorage (this tab) and is dropped on sign-out or expiry.
 */
export type Role = 'school' | 'la_officer' | 'vsh' | 'admin';

export interface AppConfig {
  auth: 'local' | 'cognito';
  /** Where the API is (same origin when empty). */
  apiBase?: string;
  laName?: string;
  cognito?: { domain: string; clientId: string; redirectUri: string; logoutUri: string; scopes?: string[] };
}

export interface Session {
  token: string;
  role: Role;
  la: string;
  urn?: string;
  sub: string;
  expiresAt: number;
  refreshToken?: string;
}

const KEY = 'attendance-hub.session';

export const ROLE_LABELS: Record<Role, string> = {
  la_officer: 'LA officer',
  vsh: 'Virtual School Head',
  school: 'School',
  admin: 'Administrator',
};

function decodeJwt(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  const json = atob(
    part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '='),
  );
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

const ROLES: Role[] = ['admin', 'la_officer', 'vsh', 'school'];

/** The same claims the API reads: `role` locally; Cognito groups, custom:la and custom:urn in AWS. */
function sessionFromToken(token: string, refreshToken?: string): Session {
  const c = decodeJwt(token);
  const groups = Array.isArray(c['cognito:groups']) ? (c['cognito:groups'] as string[]) : [];
  const role = (typeof c.role === 'string' ? c.role : ROLES.find((r) => groups.includes(r))) as Role;
  return {
    token,
    role,
    la: String(c.la ?? c['custom:la'] ?? ''),
    urn: (c.urn ?? c['custom:urn']) as string | undefined,
    sub: String(c.sub ?? ''),
    expiresAt: Number(c.exp ?? 0) * 1000,
    refreshToken,
  };
}

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  const s = JSON.parse(raw) as Session;
  if (s.expiresAt <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
  return s;
}

function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Local only: ask the local runtime to mint a token for this role (and school). */
export async function localSignIn(role: Role, urn?: string): Promise<Session> {
  const res = await fetch('/local/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role, urn }),
  });
  if (!res.ok)
    throw new Error(
      ((await res.json().catch(() => ({}))) as { detail?: string }).detail ?? `Sign-in failed (${res.status})`,
    );
  const { token } = (await res.json()) as { token: string };
  const s = sessionFromToken(token);
  saveSession(s);
  return s;
}

export async function localSchools(): Promise<Array<{ urn: string; name: string | null }>> {
  const res = await fetch('/local/sign-in/schools');
  if (!res.ok) return [];
  return ((await res.json()) as { items: Array<{ urn: string; name: string | null }> }).items;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** Cognito managed login: authorization code with PKCE (S256). */
export async function cognitoSignIn(config: NonNullable<AppConfig['cognito']>, returnTo: string): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem('attendance-hub.pkce', JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(`https://${config.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: (config.scopes ?? ['openid', 'email', 'profile']).join(' '),
    state,
    code_challenge_method: 'S256',
    code_challenge: challenge,
  }).toString();
  location.assign(url.toString());
}

/** Back from managed login with ?code=&state=: exchange the code (PKCE) for tokens. */
export async function cognitoCallback(config: NonNullable<AppConfig['cognito']>): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return undefined;
  const pending = JSON.parse(sessionStorage.getItem('attendance-hub.pkce') ?? 'null') as {
    verifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem('attendance-hub.pkce');
  history.replaceState(null, '', location.pathname + (pending?.returnTo ?? '#/'));
  if (!pending || pending.state !== params.get('state'))
    throw new Error('The sign-in response did not match this browser’s request; sign in again.');
  const res = await fetch(`https://${config.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.clientId,
      code,
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  if (!res.ok) throw new Error('Sign-in could not be completed; sign in again.');
  // The ID token carries the groups and custom attributes the API's authorizer passes on.
  const tokens = (await res.json()) as { id_token: string; access_token: string; refresh_token?: string };
  saveSession(sessionFromToken(tokens.id_token, tokens.refresh_token));
  return pending.returnTo;
}

/** Sign out everywhere: revoke the refresh token and end the managed-login session too. */
export async function signOut(config: AppConfig): Promise<void> {
  const s = currentSession();
  clearSession();
  if (config.auth === 'cognito' && config.cognito) {
    if (s?.refreshToken) {
      await fetch(`https://${config.cognito.domain}/oauth2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: s.refreshToken, client_id: config.cognito.clientId }),
      }).catch(() => undefined);
    }
    const url = new URL(`https://${config.cognito.domain}/logout`);
    url.search = new URLSearchParams({
      client_id: config.cognito.clientId,
      logout_uri: config.cognito.logoutUri,
    }).toString();
    location.assign(url.toString());
    return;
  }
  location.hash = '#/sign-in?signed-out=1';
}

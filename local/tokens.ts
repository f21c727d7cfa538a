/**
 * Local JWTs: signed with a secret kept in the data directory, so the CLI's `token` command and the
 * running server agree without any network. In AWS, Cognito issues the tokens and API Gateway's JWT
 * authorizer verifies them; handlers read the same claims either way.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isRole, type Role } from '../shared/domain/access.js';

export const LOCAL_ISSUER = 'attendance-hub-local';
export const LOCAL_AUDIENCE = 'attendance-hub';

export function signingKey(dataDir: string): Uint8Array {
  const file = join(dataDir, 'jwt-signing-key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

export interface TokenRequest {
  role: Role;
  la: string;
  urn?: string;
  sub?: string;
  /** Lifetime in seconds (default 12 hours). */
  ttlSeconds?: number;
}

export async function mintToken(dataDir: string, t: TokenRequest): Promise<string> {
  if (!isRole(t.role)) throw new Error(`role must be one of school, la_officer, vsh, admin`);
  if (t.role === 'school' && !/^\d{6}$/.test(t.urn ?? '')) throw new Error('a school token needs --urn <6-digit URN>');
  const claims: JWTPayload & Record<string, unknown> = { role: t.role, la: t.la, ...(t.urn ? { urn: t.urn } : {}) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(t.sub ?? `local-${t.role}${t.urn ? `-${t.urn}` : ''}`)
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${t.ttlSeconds ?? 12 * 3600}s`)
    .sign(signingKey(dataDir));
}

/**
 * Verify like API Gateway's JWT authorizer: signature, issuer, audience, expiry. A token must carry
 * `exp` (jose alone would accept a token that never expires; the authorizer requires exp after now).
 */
export async function verifyToken(key: Uint8Array, token: string): Promise<Record<string, unknown> | undefined> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
    });
    return payload;
  } catch {
    return undefined;
  }
}

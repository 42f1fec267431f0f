/**
 * What Coinbase checks on a CDP API key's per-request JWT (docs.cdp.coinbase.com "API Key
 * Authentication"; coinbase-advanced-py jwt_generator.py; ccxt coinbase.js createAuthToken):
 *
 *   header  {alg: "ES256", kid: <key name>, nonce: <random hex>, typ?: "JWT"}
 *   claims  {iss: "cdp" | "coinbase-cloud", sub: <key name>, nbf, exp ≤ nbf + 120,
 *            uri: "<METHOD> <host><path>", aud?: ["retail_rest_api_proxy"]}
 *
 * signed with the key's P-256 private key (ECDSA over SHA-256, r‖s, RFC 7518 §3.4). The current
 * docs show iss "cdp" without aud; ccxt and older official SDKs send iss "coinbase-cloud" with aud
 * ["retail_rest_api_proxy"]; Coinbase accepts both, so the simulator does. The signature check is
 * node:crypto's, against the account's public key; the rest is plain claim comparison.
 */
import { verify, type KeyObject } from 'node:crypto';

export interface JwtCheck {
  /** key name → public key; undefined when the key is unknown */
  publicKey(kid: string): KeyObject | undefined;
  method: string;
  /** Host header as received, e.g. "127.0.0.1:9104" */
  host: string;
  path: string;
  /** unix seconds */
  now: number;
  /** seen (kid, nonce) pairs: a token is good for one request */
  seen: Map<string, number>;
}

/** Longest lifetime Coinbase issues (exp = nbf + 120 in every official generator). */
const MAX_LIFETIME_S = 120;
/** tolerated clock difference, seconds (choice) */
const SKEW_S = 5;

export class JwtRejected extends Error {}

/** Returns the key name of a valid token; throws JwtRejected with a reason otherwise. */
export function verifyCdpJwt(authorization: string | undefined, c: JwtCheck): string {
  if (authorization === undefined || !authorization.startsWith('Bearer '))
    throw new JwtRejected('missing bearer token');
  const token = authorization.slice('Bearer '.length);
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 4096) throw new JwtRejected('malformed token');
  const [h, p, s] = parts as [string, string, string];
  const header = json(h);
  const claims = json(p);
  if (header['alg'] !== 'ES256') throw new JwtRejected('alg must be ES256');
  if (header['typ'] !== undefined && header['typ'] !== 'JWT') throw new JwtRejected('bad typ');
  const kid = header['kid'];
  const nonce = header['nonce'];
  if (typeof kid !== 'string' || kid === '') throw new JwtRejected('missing kid');
  if (typeof nonce !== 'string' || !/^[0-9a-fA-F]{16,128}$/.test(nonce))
    throw new JwtRejected('missing nonce');
  const key = c.publicKey(kid);
  if (!key) throw new JwtRejected('unknown key');
  const sig = Buffer.from(s, 'base64url');
  if (
    sig.length !== 64 ||
    !verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, sig)
  )
    throw new JwtRejected('bad signature');
  const { iss, sub, nbf, exp, uri, aud } = claims;
  if (iss !== 'cdp' && iss !== 'coinbase-cloud') throw new JwtRejected('bad iss');
  if (sub !== kid) throw new JwtRejected('sub must be the key name');
  if (aud !== undefined && !(Array.isArray(aud) && aud.includes('retail_rest_api_proxy')))
    throw new JwtRejected('bad aud');
  if (typeof nbf !== 'number' || typeof exp !== 'number' || !Number.isInteger(nbf))
    throw new JwtRejected('missing nbf/exp');
  if (exp <= nbf || exp - nbf > MAX_LIFETIME_S) throw new JwtRejected('lifetime too long');
  if (c.now + SKEW_S < nbf) throw new JwtRejected('token not yet valid');
  if (c.now >= exp) throw new JwtRejected('token expired');
  // The uri claim binds the token to one method, host and path (query excluded). ccxt strips only
  // "https://", so over the simulator's plain http it sends "GET http://host/path": tolerated
  // here because the simulator is served over http; the real API is https-only.
  const want = `${c.method} ${c.host}${c.path}`;
  const wantHttp = `${c.method} http://${c.host}${c.path}`;
  if (uri !== want && uri !== wantHttp) throw new JwtRejected('uri does not match the request');
  const seenKey = `${kid}|${nonce}`;
  if (c.seen.has(seenKey)) throw new JwtRejected('token replayed');
  c.seen.set(seenKey, exp);
  if (c.seen.size > 100_000) for (const [k, e] of c.seen) if (e <= c.now) c.seen.delete(k);
  return kid;
}

function json(part: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new JwtRejected('malformed token');
}

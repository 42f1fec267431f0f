/**
 * Server-side check of an AWS Signature Version 4 `Authorization` header, for the local fakes of
 * AWS APIs (the dev key service, the Secrets Manager fake in tests). The AWS SDK signs; nothing on
 * npm verifies, so this recomputes the signature exactly as the published algorithm says
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) and compares in
 * constant time. Errors use the type names AWS answers with, so the SDK raises the same exceptions.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SigV4Request {
  method: string;
  /** Path and query as received (`req.url`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

export interface SigV4Expect {
  service: string;
  region: string;
  credentials: readonly SigV4Credentials[];
  now: number;
  /** AWS allows 15 minutes of clock skew. */
  maxSkewMs?: number;
}

export type SigV4Result =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      type:
        | 'MissingAuthenticationTokenException'
        | 'IncompleteSignatureException'
        | 'UnrecognizedClientException'
        | 'InvalidSignatureException';
      message: string;
    };

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, ?SignedHeaders=([a-z0-9;-]{1,1024}), ?Signature=([0-9a-f]{64})$/;
const DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const hmac = (key: Uint8Array | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** RFC 3986 encoding of each path segment, as SigV4 wants it for non-S3 services. */
function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(decodeURIComponent(s)).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

function canonicalQuery(search: URLSearchParams): string {
  const enc = (s: string): string =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return [...search.entries()]
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function verifySigV4(req: SigV4Request, expect: SigV4Expect): SigV4Result {
  const auth = header(req.headers, 'authorization');
  if (!auth)
    return {
      ok: false,
      type: 'MissingAuthenticationTokenException',
      message: 'missing authentication token',
    };
  const m = AUTH_RE.exec(auth);
  const amzDate = header(req.headers, 'x-amz-date');
  const d = amzDate ? DATE_RE.exec(amzDate) : null;
  if (!m || !d)
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: 'malformed Authorization or X-Amz-Date',
    };
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] =
    m as unknown as string[];
  const signed = signedHeaderList!.split(';');
  if (
    scopeDate !== amzDate!.slice(0, 8) ||
    region !== expect.region ||
    service !== expect.service ||
    !signed.includes('host') ||
    !signed.includes('x-amz-date') ||
    signed.some((h, i) => i > 0 && signed[i - 1]! >= h) ||
    signed.some((h) => header(req.headers, h) === undefined)
  )
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: 'credential scope or signed headers are not valid',
    };
  const cred = expect.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!cred)
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'the security token included in the request is invalid',
    };
  const at = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
  if (Math.abs(expect.now - at) > (expect.maxSkewMs ?? 15 * 60_000))
    return { ok: false, type: 'InvalidSignatureException', message: 'signature expired' };

  const url = new URL(req.url, 'http://localhost');
  const canonicalHeaders = signed
    .map((h) => `${h}:${header(req.headers, h)!.trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = header(req.headers, 'x-amz-content-sha256') ?? sha256Hex(req.body);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Uint8Array = hmac(`AWS4${cred.secretAccessKey}`, scopeDate!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(toSign).digest();
  const given = Buffer.from(signature!, 'hex');
  if (!timingSafeEqual(expected, given))
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'the request signature does not match',
    };
  return { ok: true, accessKeyId: accessKeyId! };
}

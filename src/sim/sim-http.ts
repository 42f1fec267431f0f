/**
 * HTTP plumbing and account-spec checks shared by the simulators: bounded body reads, JSON answers,
 * and a listening server with a close that does not wait for kept-alive client sockets.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new Error('sim: body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}

/** The raw path and query of a request, exactly as sent (signatures cover the raw bytes). */
export function splitUrl(req: IncomingMessage): { path: string; rawQuery: string } {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  return q < 0
    ? { path: rawUrl, rawQuery: '' }
    : { path: rawUrl.slice(0, q), rawQuery: rawUrl.slice(q + 1) };
}

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `handle`; an exception that escapes it becomes a 500 (`fallback` body, with `headers`
 * over sendJson's).
 */
export async function listen(
  port: number,
  host: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  fallback: unknown,
  headers: Record<string, string> = {},
): Promise<Listening> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, fallback, headers);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${h}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fixed-point amounts for the simulators: BigInt counts of 1e-10, printed exactly, trimmed. */
export const E10 = 10_000_000_000n;

export function fmt10(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const s = `${a / E10}.${(a % E10).toString().padStart(10, '0')}`
    .replace(/0+$/, '')
    .replace(/\.$/, '');
  return neg && s !== '0' ? `-${s}` : s;
}

/** v × rate (both 1e-10 fixed point), rounded half away from zero to `dp` decimals. */
export function mulRound(v: bigint, rateE10: bigint, dp: number): bigint {
  const unit = 10n ** BigInt(10 - dp);
  const p = v * rateE10; // scale 1e-20
  const q = p / E10; // scale 1e-10, truncated
  const rounded = ((q < 0n ? q - unit / 2n : q + unit / 2n) / unit) * unit;
  return rounded;
}

// Account-spec checks shared by the simulators' `addAccount` (an absent optional field passes).
/** undefined, or a safe integer in [lo, hi] */
export const optInt = (v: unknown, lo: number, hi: number): boolean =>
  v === undefined || (Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi);
/** undefined, or a boolean */
export const optBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
/** an API key name the simulators accept */
export const isKeyName = (v: unknown): boolean =>
  typeof v === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(v);
/** a spec object with such a key name and a secret of 1 to 256 characters */
export const isKeyAndSecret = (s: { apiKey: unknown; apiSecret: unknown } | null): boolean =>
  typeof s === 'object' &&
  s !== null &&
  isKeyName(s.apiKey) &&
  typeof s.apiSecret === 'string' &&
  s.apiSecret.length >= 1 &&
  s.apiSecret.length <= 256;

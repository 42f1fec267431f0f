/**
 * The enclave's egress rules for exchange adapters: a request leaves only for an allow-listed
 * host, over https (plain http only to loopback, i.e. the simulator), and a base-URL override is
 * a bare origin. Every adapter's requests pass through here.
 */
import { ExchangeError } from './types.js';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A base-URL override as an origin ("http://127.0.0.1:9104"); anything else is refused. */
export function baseOrigin(baseUrl: string): string {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'baseUrl is not a URL');
  }
  if (
    (base.protocol !== 'https:' && base.protocol !== 'http:') ||
    base.username ||
    base.password ||
    (base.pathname !== '/' && base.pathname !== '') ||
    base.search ||
    base.hash
  ) {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'baseUrl must be a bare http(s) origin');
  }
  return base.origin;
}

/** Refuses any request whose host is not allow-listed; plain http only to loopback. */
export function assertEgress(url: string, allowed: ReadonlySet<string>): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'egress to an unparsable URL refused');
  }
  const schemeOk = u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  if (!schemeOk || u.username || u.password || !allowed.has(u.host)) {
    throw new ExchangeError(
      'EXCHANGE_EGRESS_DENIED',
      `egress to ${u.protocol}//${u.host} is not allowed`,
    );
  }
  return u;
}

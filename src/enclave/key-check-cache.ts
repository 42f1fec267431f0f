/**
 * Remembers, for a short while, that a credential passed the submit-time key check (issue #3: a
 * key that can withdraw is refused). Submitting the same key again within the TTL — a client's
 * retry, several sessions of one account, a load test — then costs no signed exchange round trip,
 * which would otherwise bound submit_key by the exchange's latency and weight budget.
 *
 * Only passes are kept: a refused key is asked again each time. The map holds a keyed MAC of the
 * credential under a random per-process key, never the key or secret, and it is bounded (oldest
 * entries go first). compute_aggregates always asks the exchange live before signing, so a key
 * given withdrawal rights within the TTL is still caught before any result names it read-only.
 */
import { toHex, utf8 } from '../common/bytes.js';
import type { KeyPermissions } from '../exchanges/types.js';
import type { Platform } from '../platform/types.js';
import type { Credentials } from './credentials.js';

export class KeyCheckCache {
  private readonly passed = new Map<string, { until: number; permissions: KeyPermissions }>();
  private readonly macKey: Uint8Array;

  constructor(
    private readonly platform: Platform,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 10_000,
  ) {
    this.macKey = platform.randomBytes(32);
  }

  private id(c: Credentials): string {
    // length-prefixed, so no two credentials share an encoding
    const fields = [c.exchange, c.apiKey, c.apiSecret, c.passphrase ?? ''];
    const text = fields.map((f) => `${f.length}:${f}`).join('\n');
    return toHex(this.platform.hmacSha256(this.macKey, utf8(text)));
  }

  /** The permissions of a recent pass, or null (none, expired, or caching off). */
  get(c: Credentials): KeyPermissions | null {
    if (this.ttlMs <= 0) return null;
    const id = this.id(c);
    const hit = this.passed.get(id);
    if (!hit) return null;
    if (hit.until <= this.now()) {
      this.passed.delete(id);
      return null;
    }
    return hit.permissions;
  }

  pass(c: Credentials, permissions: KeyPermissions): void {
    if (this.ttlMs <= 0) return;
    const id = this.id(c);
    this.passed.delete(id);
    this.passed.set(id, { until: this.now() + this.ttlMs, permissions });
    if (this.passed.size > this.max) this.passed.delete(this.passed.keys().next().value!);
  }
}

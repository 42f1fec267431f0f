/**
 * The enclave signs only tree heads that extend what it signed or verified before. A host that
 * edits, reorders, drops or forks the stored log is caught here, before anything is signed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBase64, toBase64 } from '../../../src/common/bytes.js';
import { signJson } from '../../../src/crypto/signed-json.js';
import { generateKeyRing, type KeyRing } from '../../../src/enclave/keyring.js';
import { createLogSigner } from '../../../src/enclave/log-signer.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { alignedRangeNodes } from '../../../src/tlog/node-id.js';
import { consistencyProofPlan } from '../../../src/tlog/proof-plan.js';
import type { SignedAggregates } from '../../../src/wire/messages.js';

/** An honest host: stores every node the enclave reports and the latest head. */
class Host {
  nodes = new Map<string, string>();
  heads: { size: number; checkpoint: string | null }[] = [{ size: 0, checkpoint: null }];
  get head() {
    return this.heads[this.heads.length - 1]!;
  }
  frontier(size = this.head.size): string[] {
    return alignedRangeNodes(0, size).map((n) => this.nodes.get(`${n.level}/${n.index}`)!);
  }
  consistency(from: number, to: number): string[] {
    const plan = consistencyProofPlan(from, to);
    return plan
      .assemble(
        P,
        plan.nodes.map((n) => fromBase64(this.nodes.get(`${n.level}/${n.index}`)!)),
      )
      .map(toBase64);
  }
  store(r: {
    nodes: { level: number; index: number; hash: string }[];
    size: number;
    checkpoint: string;
  }) {
    for (const n of r.nodes) this.nodes.set(`${n.level}/${n.index}`, n.hash);
    this.heads.push({ size: r.size, checkpoint: r.checkpoint });
  }
}

function entry(ring: KeyRing, i: number): SignedAggregates {
  return signJson(P, ring.signing.privateKey, {
    v: 1,
    i,
    account: 'a'.repeat(64),
    session_id: 's'.repeat(43),
  }) as SignedAggregates;
}

function grow(
  signer: ReturnType<typeof createLogSigner>,
  ring: KeyRing,
  host: Host,
  n: number,
  offset = 0,
): void {
  for (let i = 0; i < n; i++) {
    host.store(
      signer.append(ring, {
        prev: { checkpoint: host.head.checkpoint, frontier: host.frontier() },
        consistency: null,
        entry: entry(ring, offset + i),
      }),
    );
  }
}

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('log signer (enclave side of protocol §6)', () => {
  it('extends an honest log leaf by leaf', () => {
    const ring = generateKeyRing(P);
    const host = new Host();
    grow(createLogSigner(P), ring, host, 9);
    assert.equal(host.head.size, 9);
    assert.match(host.head.checkpoint!, /^perf-aggregator\/log\/[0-9a-f]{16}\n9\n/);
  });

  it('a host that edits or reorders stored leaves is caught (frontier ≠ signed root)', () => {
    const ring = generateKeyRing(P);
    const host = new Host();
    const signer = createLogSigner(P);
    grow(signer, ring, host, 6);
    const frontier = host.frontier();
    const edited = [...frontier];
    edited[1] = toBase64(new Uint8Array(32).fill(7));
    assert.throws(
      () =>
        signer.append(ring, {
          prev: { checkpoint: host.head.checkpoint, frontier: edited },
          consistency: null,
          entry: entry(ring, 99),
        }),
      code('LOG_HEAD_INVALID'),
    );
    const reordered = [frontier[1]!, frontier[0]!];
    assert.throws(
      () =>
        signer.append(ring, {
          prev: { checkpoint: host.head.checkpoint, frontier: reordered },
          consistency: null,
          entry: entry(ring, 99),
        }),
      code('LOG_HEAD_INVALID'),
    );
  });

  it('a host that drops leaves (rolls back to an older signed head) is caught', () => {
    const ring = generateKeyRing(P);
    const host = new Host();
    const signer = createLogSigner(P);
    grow(signer, ring, host, 5);
    const old = host.heads[3]!;
    assert.throws(
      () =>
        signer.append(ring, {
          prev: { checkpoint: old.checkpoint, frontier: host.frontier(3) },
          consistency: null,
          entry: entry(ring, 9),
        }),
      code('LOG_INCONSISTENT'),
    );
  });

  it('a checkpoint from another key, or an entry this enclave did not sign, is refused', () => {
    const ring = generateKeyRing(P);
    const other = generateKeyRing(P);
    const host = new Host();
    grow(createLogSigner(P), other, host, 2);
    assert.throws(
      () =>
        createLogSigner(P).append(ring, {
          prev: { checkpoint: host.head.checkpoint, frontier: host.frontier() },
          consistency: null,
          entry: entry(ring, 1),
        }),
      code('LOG_HEAD_INVALID'),
    );
    assert.throws(
      () =>
        createLogSigner(P).append(ring, {
          prev: { checkpoint: null, frontier: [] },
          consistency: null,
          entry: entry(other, 1),
        }),
      code('LOG_HEAD_INVALID'),
    );
  });

  it('a second instance that signed a smaller tree demands a consistency proof and checks it', () => {
    const ring = generateKeyRing(P);
    const host = new Host();
    const a = createLogSigner(P);
    const b = createLogSigner(P);
    grow(a, ring, host, 3);
    grow(b, ring, host, 1, 5); // b trusts the size-3 head it is first shown, and signs size 4
    grow(b, ring, host, 2, 10); // now size 6, signed by b
    const prev6 = { checkpoint: host.head.checkpoint, frontier: host.frontier() };
    let from = -1;
    assert.throws(
      () => a.append(ring, { prev: prev6, consistency: null, entry: entry(ring, 7) }),
      (e: unknown) => {
        from = (e as { detail?: { from_size: number } }).detail?.from_size ?? -1;
        return code('LOG_CONSISTENCY_REQUIRED')(e);
      },
    );
    assert.equal(from, 3);
    const bogus = host.consistency(3, 6).map(() => toBase64(new Uint8Array(32)));
    assert.throws(
      () =>
        a.append(ring, {
          prev: prev6,
          consistency: { from_size: 3, proof: bogus },
          entry: entry(ring, 7),
        }),
      code('LOG_INCONSISTENT'),
    );
    const r = a.append(ring, {
      prev: prev6,
      consistency: { from_size: 3, proof: host.consistency(3, 6) },
      entry: entry(ring, 7),
    });
    assert.equal(r.size, 7);
    assert.equal(r.leaf_index, 6);
  });

  it('a head of the same size with another root (a fork) is refused', () => {
    const ring = generateKeyRing(P);
    const signer = createLogSigner(P);
    const h1 = new Host();
    grow(signer, ring, h1, 2);
    // A second, divergent history signed by another instance of the same image.
    const h2 = new Host();
    grow(createLogSigner(P), ring, h2, 2, 100);
    assert.throws(
      () =>
        signer.append(ring, {
          prev: { checkpoint: h2.head.checkpoint, frontier: h2.frontier() },
          consistency: null,
          entry: entry(ring, 5),
        }),
      code('LOG_INCONSISTENT'),
    );
  });

  it('a signed head the host failed to store may be abandoned, once, and only that one', () => {
    const ring = generateKeyRing(P);
    const host = new Host();
    const signer = createLogSigner(P);
    grow(signer, ring, host, 4);
    const prev4 = { checkpoint: host.head.checkpoint, frontier: host.frontier() };
    // signed, but the host's commit failed: not stored
    signer.append(ring, { prev: prev4, consistency: null, entry: entry(ring, 50) });
    // the host shows the stored head again and appends another entry in its place
    const r = signer.append(ring, { prev: prev4, consistency: null, entry: entry(ring, 51) });
    assert.equal(r.size, 5);
    host.store(r);
    // two steps back is still a rollback
    grow(signer, ring, host, 1, 60);
    const old = host.heads[4]!;
    assert.throws(
      () =>
        signer.append(ring, {
          prev: { checkpoint: old.checkpoint, frontier: host.frontier(4) },
          consistency: null,
          entry: entry(ring, 70),
        }),
      code('LOG_INCONSISTENT'),
    );
  });
});

/**
 * Verification commands for other tools (issue: "verification everywhere"). Each prints a JSON
 * verdict and returns 0 only when what it checks holds.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient } from '../client/api-client.js';
import { CryptoHelper } from '../client/crypto-helper.js';
import { logOriginFor, type AggregatesResponseV1 } from '../client/verify-aggregates.js';
import { fromBase64, fromHex, toHex } from '../common/bytes.js';
import { nodePlatform as P } from '../platform/node.js';
import { openCheckpoint } from '../tlog/checkpoint.js';
import { formatVerifierKey, parseVerifierKey } from '../tlog/note-key.js';
import { tilePath } from '../tlog/tiles.js';
import { verifyConsistency, verifyInclusion } from '../tlog/verify.js';
import { TreePool } from './tree-pool.js';

type Out = (v: unknown) => void;
const hexList = (s: string | undefined): Uint8Array[] =>
  s ? s.split(',').filter(Boolean).map(fromHex) : [];
const int = (s: string | undefined, name: string): number => {
  if (s === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(s))
    throw new Error(`--${name} must be a non-negative integer`);
  return Number(s);
};

/** `perf-aggregator verify result.json [--attestation quote.json] [--root PEM] [--expect-image-hash H]` */
export async function verifyCommand(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      attestation: { type: 'string' },
      root: { type: 'string' },
      'expect-image-hash': { type: 'string' },
    },
  });
  if (!positionals[0])
    throw new Error('verify needs a result file (as saved by `perf-aggregator aggregates`)');
  const result = JSON.parse(readFileSync(positionals[0], 'utf8')) as AggregatesResponseV1 & {
    attestation?: Parameters<typeof CryptoHelper.verifyAggregates>[1]['attestation'];
  };
  const attestation = values.attestation
    ? JSON.parse(readFileSync(values.attestation, 'utf8'))
    : result.attestation;
  if (!attestation) throw new Error('no attestation: pass --attestation quote.json');
  const pinned = values['expect-image-hash'];
  const expected = pinned ?? String(result.aggregates_signed?.payload?.['image_hash'] ?? '');
  const verdict = await CryptoHelper.verifyAggregates(result, {
    attestation,
    expectedImageHash: expected,
    ...(values.root && { trustedRoots: [readFileSync(values.root, 'utf8')] }),
    platform: P,
  });
  out({
    valid: verdict.valid,
    image_hash_pinned: pinned !== undefined,
    leaf_hash: verdict.leaf_hash,
    checks: verdict.checks,
  });
  return verdict.valid ? 0 : 1;
}

/** `perf-aggregator log <verify-inclusion|verify-consistency|verify-checkpoint|consistency|vkey> …` */
export async function logCommand(argv: string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'leaf-hash': { type: 'string' },
      index: { type: 'string' },
      size: { type: 'string' },
      size1: { type: 'string' },
      size2: { type: 'string' },
      root: { type: 'string' },
      root1: { type: 'string' },
      root2: { type: 'string' },
      proof: { type: 'string' },
      vkey: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      url: { type: 'string', default: 'http://localhost:3000' },
    },
  });
  switch (sub) {
    case 'verify-inclusion': {
      const ok = verifyInclusion(
        P,
        fromHex(values['leaf-hash'] ?? ''),
        int(values.index, 'index'),
        int(values.size, 'size'),
        hexList(values.proof),
        fromHex(values.root ?? ''),
      );
      out({ valid: ok, check: 'inclusion' });
      return ok ? 0 : 1;
    }
    case 'verify-consistency': {
      const ok = verifyConsistency(
        P,
        int(values.size1, 'size1'),
        int(values.size2, 'size2'),
        hexList(values.proof),
        fromHex(values.root1 ?? ''),
        fromHex(values.root2 ?? ''),
      );
      out({ valid: ok, check: 'consistency' });
      return ok ? 0 : 1;
    }
    case 'verify-checkpoint': {
      if (!positionals[0] || !values.vkey)
        throw new Error('verify-checkpoint needs FILE and --vkey');
      const verifier = parseVerifierKey(P, values.vkey);
      try {
        const { checkpoint } = openCheckpoint(
          P,
          readFileSync(positionals[0], 'utf8'),
          [verifier],
          verifier.name,
        );
        out({
          valid: true,
          check: 'checkpoint',
          origin: checkpoint.origin,
          size: checkpoint.size,
          root: toHex(checkpoint.rootHash),
        });
        return 0;
      } catch (e) {
        out({
          valid: false,
          check: 'checkpoint',
          code: (e as { code?: string }).code ?? 'ERR_TLOG_NOTE',
        });
        return 1;
      }
    }
    case 'vkey': {
      const q = await new ApiClient(values.url!, fetch).quote();
      const key = fromBase64(q.signing_pubkey);
      out({
        vkey: formatVerifierKey(P, logOriginFor(P, key), key),
        note: 'verify the quote first (perf-aggregator quote): the key is only as trusted as the attestation',
      });
      return 0;
    }
    case 'consistency':
      return serverConsistency(values.url!, int(values.from, 'from'), int(values.to, 'to'), out);
    default:
      throw new Error(
        'log needs one of: verify-inclusion, verify-consistency, verify-checkpoint, consistency, vkey',
      );
  }
}

/**
 * Audits a server's log between sizes `from` and `to`: recomputes both roots from the leaf hashes
 * it serves (C2SP level-0 tiles), checks the server's consistency proof against them, and, when
 * `to` is the current size, checks the root against the signed checkpoint.
 */
async function serverConsistency(url: string, from: number, to: number, out: Out): Promise<number> {
  const base = url.replace(/\/$/, '');
  const get = async (path: string): Promise<Response> => {
    const r = await fetch(base + path);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r;
  };
  const q = await new ApiClient(base, fetch).quote();
  const key = fromBase64(q.signing_pubkey);
  const origin = logOriginFor(P, key);
  const { checkpoint } = openCheckpoint(
    P,
    await (await get('/api/log/checkpoint')).text(),
    [parseVerifierKey(P, formatVerifierKey(P, origin, key))],
    origin,
  );
  if (!(from >= 1 && from <= to && to <= checkpoint.size))
    throw new Error(`need 1 ≤ from ≤ to ≤ ${checkpoint.size}`);
  // Every leaf hash up to `to`, from the level-0 tiles as they exist at the checkpoint's size
  // (full, or the partial right-most one); both roots are then rebuilt on all cores.
  const leafHashes = new Uint8Array(new SharedArrayBuffer(to * 32));
  for (let tile = 0; tile * 256 < to; tile++) {
    const served = Math.min(256, checkpoint.size - tile * 256);
    const bytes = new Uint8Array(
      await (await get(`/api/log/${tilePath(0, tile, served)}`)).arrayBuffer(),
    );
    if (bytes.length !== served * 32) throw new Error(`tile ${tile}: ${bytes.length} bytes`);
    leafHashes.set(bytes.subarray(0, Math.min(256, to - tile * 256) * 32), tile * 256 * 32);
  }
  const pool = TreePool.start();
  const roots = await pool
    .roots({ kind: 'hashes', data: leafHashes }, [from, to])
    .finally(() => pool.close());
  const root1 = roots[0]!;
  const root2 = roots[1]!;
  const proof = (
    (await (await get(`/api/log/proof/consistency?from=${from}&to=${to}`)).json()) as {
      proof: string[];
    }
  ).proof.map(fromHex);
  const checks = [
    { name: 'consistency', ok: verifyConsistency(P, from, to, proof, root1, root2) },
    ...(to === checkpoint.size
      ? [{ name: 'checkpoint_root', ok: toHex(root2) === toHex(checkpoint.rootHash) }]
      : []),
  ];
  const valid = checks.every((c) => c.ok);
  out({
    valid,
    from,
    to,
    root1: toHex(root1),
    root2: toHex(root2),
    checkpoint_size: checkpoint.size,
    checks,
  });
  return valid ? 0 : 1;
}

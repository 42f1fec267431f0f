/**
 * Protocol §6, public and read-only: the signed checkpoint, proofs, per-account history, single
 * entries, and C2SP tlog-tiles so standard tools and witnesses can follow the log.
 */
import type { FastifyInstance } from 'fastify';
import { toHex } from '../../common/bytes.js';
import { formatTime } from '../../common/time.js';
import type { AccountLeaf } from '../../store/log-store.js';
import { parseTilePath, tileNodeIds, tileWidth } from '../../tlog/tiles.js';
import type { AppDeps } from '../app.js';
import { ApiError } from '../errors.js';

// Query strings and path params arrive as text (no type coercion at the edge): decimal, no sign.
const index = { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } as const;

/** A leaf as the public sees it: after a revoke only its hash remains. */
export function publicLeaf(l: AccountLeaf) {
  const live = l.payloadJson !== null && l.signature !== null;
  return {
    leaf_index: l.leafIndex,
    leaf_hash: toHex(l.leafHash),
    status: live ? 'live' : 'revoked',
    logged_at: formatTime(l.loggedAt.getTime()),
    aggregates_signed: live
      ? { signature: l.signature, payload: JSON.parse(l.payloadJson!) as object }
      : null,
  };
}

export function logRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { tlog, logStore } = deps;

  app.get('/api/log/checkpoint', async (_req, reply) => {
    const head = (await tlog.head()) ?? (await tlog.ensureHead());
    return reply
      .type('text/plain; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(head.checkpoint);
  });

  app.get<{ Querystring: { leaf_index: string; tree_size?: string } }>(
    '/api/log/proof/inclusion',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['leaf_index'],
          properties: { leaf_index: index, tree_size: index },
        },
      },
    },
    async (req) =>
      tlog.proveInclusion(
        Number(req.query.leaf_index),
        req.query.tree_size === undefined ? undefined : Number(req.query.tree_size),
      ),
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    '/api/log/proof/consistency',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: index, to: index },
        },
      },
    },
    async (req) => tlog.proveConsistency(Number(req.query.from), Number(req.query.to)),
  );

  app.get<{ Params: { account: string } }>(
    '/api/log/accounts/:account',
    {
      schema: {
        params: {
          type: 'object',
          required: ['account'],
          properties: { account: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        },
      },
    },
    async (req) => {
      const head = await tlog.head();
      const leaves = await logStore.leavesOfAccount(req.params.account);
      return {
        account: req.params.account,
        tree_size: head?.size ?? 0,
        count: leaves.length,
        entries: leaves.map(publicLeaf),
      };
    },
  );

  app.get<{ Params: { leaf_index: string } }>(
    '/api/log/entries/:leaf_index',
    {
      schema: {
        params: { type: 'object', required: ['leaf_index'], properties: { leaf_index: index } },
      },
    },
    async (req) => {
      const leaf = await logStore.leafAt(Number(req.params.leaf_index));
      if (!leaf) throw new ApiError('NOT_FOUND');
      return { ...publicLeaf(leaf), ...(await tlog.proveInclusion(leaf.leafIndex)) };
    },
  );

  // C2SP tlog-tiles: tile/<L>/<N>[.p/<W>] (hash tiles only; entry bundles are not served).
  app.get<{ Params: { '*': string } }>('/api/log/tile/*', async (req, reply) => {
    let tile;
    try {
      tile = parseTilePath(`tile/${req.params['*']}`);
    } catch {
      throw new ApiError('NOT_FOUND');
    }
    const head = await tlog.head();
    const available = head ? tileWidth(tile.level, tile.index, head.size) : 0;
    if (available === 0 || tile.width > available) throw new ApiError('NOT_FOUND');
    const hashes = await logStore.nodes(tileNodeIds(tile.level, tile.index, tile.width));
    const body = Buffer.alloc(hashes.length * 32);
    hashes.forEach((h, i) => body.set(h, i * 32));
    const full = tile.width === 256;
    return reply
      .type('application/octet-stream')
      .header('cache-control', full ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(body);
  });
}

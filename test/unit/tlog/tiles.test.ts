/** C2SP tlog-tiles: the spec's path and partial-tile examples, and tiles built from stored nodes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../../src/common/bytes.js';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { merkleTreeHash } from '../../../src/tlog/proof.js';
import {
  parseTilePath,
  tileHashes,
  tileNodeIds,
  tilePath,
  tileWidth,
} from '../../../src/tlog/tiles.js';
import { buildLog, fakeLeafHashes } from './fixtures.js';

const badPath = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_TILE_PATH');

describe('tilePath / parseTilePath (C2SP tlog-tiles)', () => {
  it('encodes the index in 3-digit groups, all but the last prefixed with x (spec: 1234067 → x001/x234/067)', () => {
    assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
    assert.equal(tilePath(0, 0), 'tile/0/000');
    assert.equal(tilePath(3, 5), 'tile/3/005');
    assert.equal(tilePath(1, 999), 'tile/1/999');
    assert.equal(tilePath(1, 1000), 'tile/1/x001/000');
    assert.equal(tilePath(63, 0), 'tile/63/000');
    assert.deepEqual(parseTilePath('tile/0/x001/x234/067'), {
      level: 0,
      index: 1234067,
      width: 256,
    });
  });

  it('partial tiles carry .p/<W> with W in 1..255; a full tile has no suffix', () => {
    assert.equal(tilePath(0, 273, 112), 'tile/0/273.p/112');
    assert.equal(tilePath(2, 0, 1), 'tile/2/000.p/1');
    assert.equal(tilePath(2, 0, 256), 'tile/2/000');
    assert.deepEqual(parseTilePath('tile/1/000.p/17'), { level: 1, index: 0, width: 17 });
  });

  it('fast-check: parse(path(level, index, width)) is the identity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.oneof(
          fc.integer({ min: 0, max: 5000 }),
          fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 256) }),
        ),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          assert.deepEqual(parseTilePath(tilePath(level, index, width)), { level, index, width });
        },
      ),
      { numRuns: 500 },
    );
  });

  for (const p of [
    'tile/0/1',
    'tile/0/01',
    'tile/0/0000',
    'tile/00/000',
    'tile/64/000',
    'tile/0/x000/005',
    'tile/0/001/002',
    'tile/0/x001/x234/67',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/012',
    'tile/entries/000',
    '/tile/0/000',
    'tile/0/000/',
    'tile/0/x999/x999/x999/x999/x999/999', // index ≥ 2^53 / 256
  ]) {
    it(`parseTilePath(${JSON.stringify(p)}) › throws ERR_TLOG_TILE_PATH`, () => {
      assert.throws(() => parseTilePath(p), badPath);
    });
  }

  it('tilePath › when a coordinate is out of range › throws ERR_TLOG_TILE_PATH', () => {
    for (const [l, n, w] of [
      [64, 0, 256],
      [-1, 0, 256],
      [0, -1, 256],
      [0, 0.5, 256],
      [0, 0, 0],
      [0, 0, 257],
      [0, 2 ** 53, 1],
    ]) {
      assert.throws(() => tilePath(l!, n!, w!), badPath);
    }
  });
});

describe('tileWidth (spec "Partial Tiles" examples)', () => {
  it('a tree of 70,000: 273 full level-0 tiles + one of width 112, one full level-1 tile + one of width 17, a level-2 tile of width 1', () => {
    const s = 70_000;
    for (let n = 0; n < 273; n++) assert.equal(tileWidth(0, n, s), 256);
    assert.equal(tileWidth(0, 273, s), 112);
    assert.equal(tileWidth(0, 274, s), 0);
    assert.equal(tileWidth(1, 0, s), 256);
    assert.equal(tileWidth(1, 1, s), 17);
    assert.equal(tileWidth(1, 2, s), 0);
    assert.equal(tileWidth(2, 0, s), 1);
    assert.equal(tileWidth(3, 0, s), 0);
  });
  it('a tree of 256: a full level-0 tile and a level-1 tile of width 1', () => {
    assert.equal(tileWidth(0, 0, 256), 256);
    assert.equal(tileWidth(0, 1, 256), 0);
    assert.equal(tileWidth(1, 0, 256), 1);
  });
});

describe('tiles from stored nodes', () => {
  const size = 70_000;
  const leaves = fakeLeafHashes(P, size);
  const { store } = buildLog(P, leaves);
  const get = (id: { level: number; index: number }): Uint8Array => store.get(id);

  it('a level-L tile is the row of Merkle level 8L: level 0 holds leaf hashes', () => {
    assert.deepEqual(tileNodeIds(1, 2, 3), [
      { level: 8, index: 512 },
      { level: 8, index: 513 },
      { level: 8, index: 514 },
    ]);
    const t = tileHashes(0, 273, 112, get);
    assert.equal(t.length, 112 * 32);
    assert.equal(toHex(t.subarray(0, 32)), toHex(leaves[273 * 256]!));
    assert.equal(toHex(t.subarray(111 * 32)), toHex(leaves[size - 1]!));
  });

  it('each level-1 hash is the MTH of the full level-0 tile below it; level 2 hashes 65,536 leaves', () => {
    const t1 = tileHashes(1, 0, 256, get);
    for (const i of [0, 1, 100, 255]) {
      const tile0 = tileHashes(0, i, 256, get);
      const hashes = Array.from({ length: 256 }, (_, k) => tile0.subarray(k * 32, (k + 1) * 32));
      assert.equal(
        toHex(t1.subarray(i * 32, (i + 1) * 32)),
        toHex(merkleTreeHash(P, hashes, 256)),
        `entry ${i}`,
      );
    }
    assert.equal(toHex(tileHashes(2, 0, 1, get)), toHex(merkleTreeHash(P, leaves, 65536)));
  });

  it('tileHashes › when a node is missing › throws ERR_TLOG_NODES', () => {
    assert.throws(
      () => tileHashes(0, 274, 1, () => undefined),
      (e) => hasCode(e, 'ERR_TLOG_NODES'),
    );
  });
});

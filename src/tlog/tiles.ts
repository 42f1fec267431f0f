/**
 * C2SP tlog-tiles hash tiles (https://c2sp.org/tlog-tiles, "Merkle Tree" and "Partial Tiles").
 * Tile n at level l holds, for i in [0, 256), MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]):
 * the stored Merkle node {level: 8l, index: n·256 + i}. A tile is the height-8 subtree spanning
 * Merkle levels 8l … 8l+7 above those hashes; only its bottom row is served, the rest is rehashed
 * by the client. A partial tile holds the first W < 256 of them and is served at `.p/<W>`.
 *
 * Entry bundles (`tile/entries/<N>`) are out of scope here: this log stores leaf hashes, not
 * entries, and the path helpers reject `entries`.
 */
import { isIndex } from './bits.js';
import { TlogError } from './errors.js';
import { HASH_SIZE } from './hash.js';
import type { NodeId } from './node-id.js';

/** Hashes in a full tile. */
export const TILE_WIDTH = 256;
/** Merkle levels per tile level. */
export const TILE_HEIGHT = 8;
/** Highest tile level the spec allows. */
export const MAX_TILE_LEVEL = 63;

/** A tile's coordinates; `width` is 256 for a full tile, 1…255 for a partial one. */
export interface TileId {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

function bad(): TlogError {
  return new TlogError('ERR_TLOG_TILE_PATH');
}

function checkTile(level: number, index: number, width: number): void {
  if (!isIndex(level) || level > MAX_TILE_LEVEL || !isIndex(index) || !isIndex(width)) throw bad();
  if (width < 1 || width > TILE_WIDTH) throw bad();
  // Every node id of the tile must stay a safe integer.
  if (!isIndex(index * TILE_WIDTH + width - 1)) throw bad();
}

/**
 * The path `tile/<L>/<N>[.p/<W>]`, with N in zero-padded 3-digit groups, all but the last
 * prefixed with `x`. Omit `width` (or pass 256) for a full tile. Throws ERR_TLOG_TILE_PATH.
 *
 * @example
 * tilePath(0, 1234067);      // 'tile/0/x001/x234/067'
 * tilePath(1, 5, 17);        // 'tile/1/005.p/17'
 */
export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  checkTile(level, index, width);
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `tile/${level}/${n}${width === TILE_WIDTH ? '' : `.p/${width}`}`;
}

const PATH = /^tile\/(0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a hash tile path (the part from `tile/`). Strict: canonical level and width, no
 * superfluous leading `x000` group, index within 2^53. Throws ERR_TLOG_TILE_PATH.
 *
 * @example
 * parseTilePath('tile/0/x001/x234/067'); // { level: 0, index: 1234067, width: 256 }
 */
export function parseTilePath(path: string): TileId {
  if (typeof path !== 'string' || path.length > 128) throw bad();
  const m = PATH.exec(path);
  if (!m) throw bad();
  const level = Number(m[1]);
  const digits = m[2]!.replace(/[x/]/g, '') + m[3]!;
  if (m[2]!.startsWith('x000')) throw bad(); // not the canonical encoding of this index
  const index = Number(digits);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width >= TILE_WIDTH) throw bad(); // a full tile has no .p suffix
  checkTile(level, index, width);
  return { level, index, width };
}

/**
 * The stored nodes whose hashes, concatenated in this order, make the tile.
 *
 * @example
 * tileNodeIds(1, 0, 2); // [{ level: 8, index: 0 }, { level: 8, index: 1 }]
 */
export function tileNodeIds(level: number, index: number, width: number = TILE_WIDTH): NodeId[] {
  checkTile(level, index, width);
  const out: NodeId[] = [];
  for (let i = 0; i < width; i++)
    out.push({ level: TILE_HEIGHT * level, index: index * TILE_WIDTH + i });
  return out;
}

/**
 * The tile's bytes (width × 32) from a synchronous node source, e.g. an in-memory store.
 * Async hosts fetch {@link tileNodeIds} themselves and concatenate. Throws ERR_TLOG_NODES if a
 * node is missing or not 32 bytes.
 *
 * @example
 * const body = tileHashes(0, 3, 256, (id) => nodes.get(id.level, id.index));
 */
export function tileHashes(
  level: number,
  index: number,
  width: number,
  getNode: (id: NodeId) => Uint8Array | undefined,
): Uint8Array {
  const ids = tileNodeIds(level, index, width);
  const out = new Uint8Array(ids.length * HASH_SIZE);
  ids.forEach((id, i) => {
    const h = getNode(id);
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new TlogError('ERR_TLOG_NODES');
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/**
 * Width of tile (level, index) in the tree of `size` leaves: 256 if full, 1…255 if it is the
 * partial tile (floor(size / 256^level) mod 256 entries), 0 if the tile does not exist yet.
 *
 * @example
 * tileWidth(0, 273, 70_000); // 112
 * tileWidth(2, 0, 70_000);   // 1
 */
export function tileWidth(level: number, index: number, size: number): number {
  if (!isIndex(level) || level > MAX_TILE_LEVEL || !isIndex(index) || !isIndex(size)) {
    throw new TlogError('ERR_TLOG_RANGE');
  }
  const entries = Math.floor(size / TILE_WIDTH ** level); // hashes at Merkle level 8·level
  const start = index * TILE_WIDTH;
  if (entries >= start + TILE_WIDTH) return TILE_WIDTH;
  return entries > start ? entries - start : 0;
}

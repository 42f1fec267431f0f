/**
 * Reads the one file of a single-entry ZIP archive (OKX's fills archive: one CSV per quarter).
 *
 * Why our own reader: no ZIP package is a dependency, and we need only the common subset (one
 * entry, stored or deflated, no encryption, no ZIP64), which node:zlib covers: inflateRaw for the
 * data and crc32 for the check. The central directory is the authority (APPNOTE 4.3.6): sizes and
 * CRC-32 are taken from it (a local header written with a data descriptor, flag bit 3, has zeros
 * there), and the local header must agree on name and method. Anything else is refused as a
 * malformed answer rather than guessed at.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { malformed } from './binance-common.js';

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const EOCD_LEN = 22;
const MAX_COMMENT = 0xffff;

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/**
 * @example
 * const { name, data } = readSingleZipEntry(bytes, 256 << 20);
 */
export function readSingleZipEntry(zip: Uint8Array, maxBytes: number): ZipEntry {
  const bad = (what: string) => malformed(`fills archive zip: ${what}`);
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const u32 = (o: number) => {
    if (o < 0 || o + 4 > zip.length) throw bad('truncated');
    return v.getUint32(o, true);
  };
  const u16 = (o: number) => {
    if (o < 0 || o + 2 > zip.length) throw bad('truncated');
    return v.getUint16(o, true);
  };

  // end of central directory: the last record, followed only by its comment
  let eocd = -1;
  for (let o = zip.length - EOCD_LEN; o >= Math.max(0, zip.length - EOCD_LEN - MAX_COMMENT); o--) {
    if (v.getUint32(o, true) === EOCD_SIG && o + EOCD_LEN + u16(o + 20) === zip.length) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw bad('no end of central directory (not a zip, or truncated)');
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) throw bad('multi-disk archive');
  const entries = u16(eocd + 10);
  if (entries !== 1 || u16(eocd + 8) !== 1) throw bad(`${entries} entries, expected one`);
  const cdSize = u32(eocd + 12);
  const cd = u32(eocd + 16);
  if (cd + cdSize > eocd) throw bad('central directory out of bounds');

  if (u32(cd) !== CDH_SIG) throw bad('central directory header');
  const flags = u16(cd + 8);
  const method = u16(cd + 10);
  const crc = u32(cd + 16);
  const csize = u32(cd + 20);
  const usize = u32(cd + 24);
  const nameLen = u16(cd + 28);
  const local = u32(cd + 42);
  if (flags & 0x1) throw bad('encrypted entry');
  if (method !== 0 && method !== 8) throw bad(`compression method ${method}`);
  if (csize === 0xffffffff || usize === 0xffffffff || local === 0xffffffff) throw bad('zip64');
  if (usize > maxBytes) throw bad('entry too large');
  if (cd + 46 + nameLen > eocd) throw bad('central directory out of bounds');
  const name = Buffer.from(zip.subarray(cd + 46, cd + 46 + nameLen)).toString('utf8');

  if (u32(local) !== LFH_SIG) throw bad('local file header');
  if (u16(local + 8) !== method) throw bad('local header disagrees with the directory');
  const lName = u16(local + 26);
  const lExtra = u16(local + 28);
  if (Buffer.from(zip.subarray(local + 30, local + 30 + lName)).toString('utf8') !== name)
    throw bad('local header disagrees with the directory');
  const start = local + 30 + lName + lExtra;
  if (start + csize > cd) throw bad('truncated entry');
  const raw = zip.subarray(start, start + csize);

  let data: Uint8Array;
  if (method === 0) data = raw;
  else {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) });
    } catch {
      throw bad('deflate stream');
    }
  }
  if (data.length !== usize) throw bad('size mismatch');
  if (crc32(data) >>> 0 !== crc) throw bad('CRC-32 mismatch');
  return { name, data };
}

/**
 * The OKX simulator's fills archive: per account and quarter, the state machine of "Apply for /
 * Get fills archive" (requested → `ongoing` for a number of status polls → `finished`, or
 * `failed`), and the file itself, a ZIP holding one CSV built with node:zlib (deflateRaw, crc32)
 * and served unsigned on the simulator's own origin like OKX's file host.
 *
 * Choices (OKX documents none of them in the material we have): only quarters that have ended
 * and end within the last 730 days can be requested; applying again for a quarter that is not
 * `failed` changes nothing; CSV columns are the adapter's assumed ones (src/exchanges/okx-archive.ts).
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import { DAY } from './binance-prim.js';
import type { SimOkxFill } from './okx-data.js';

export const ARCHIVE_REACH_MS = 730 * DAY;
export const ARCHIVE_FILE_PATH = '/files/okx/fills-archive/';
// The simulator's own copy of the file layout, as the exchange defines it: a fake that imported the
// adapter's definition could never disagree with it.
export const SIM_ARCHIVE_COLUMNS = [
  'instType',
  'instId',
  'tradeId',
  'ordId',
  'clOrdId',
  'billId',
  'tag',
  'fillPx',
  'fillSz',
  'side',
  'posSide',
  'execType',
  'feeCcy',
  'fee',
  'ts',
  'fillPnl',
] as const;

export interface ArchiveJob {
  state: 'ongoing' | 'finished' | 'failed';
  /** status reads since the request */
  polls: number;
  requestedAt: number;
  /** set once finished: the file's unguessable name */
  token?: string;
}

/** "2024", "Q1" → the quarter's [start, end) in ms, or undefined when not a quarter. */
export function quarterSpan(
  year: string,
  quarter: string,
): { start: number; end: number } | undefined {
  if (!/^\d{4}$/.test(year) || !/^Q[1-4]$/.test(quarter)) return undefined;
  const y = Number(year);
  const q = Number(quarter[1]);
  return { start: Date.UTC(y, (q - 1) * 3, 1), end: Date.UTC(y, q * 3, 1) };
}

/** One CSV field: quoted when it holds a quote, comma or line break, and always for instId. */
function field(v: string, quote: boolean): string {
  return quote || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The quarter's fills as the archive CSV (CRLF lines, the instId column quoted). */
export function archiveCsv(fills: readonly SimOkxFill[]): string {
  const lines = [SIM_ARCHIVE_COLUMNS.join(',')];
  for (const f of fills) {
    const row: Record<(typeof SIM_ARCHIVE_COLUMNS)[number], string> = {
      ...f,
      ts: f.fillTime,
    };
    lines.push(SIM_ARCHIVE_COLUMNS.map((c) => field(row[c], c === 'instId')).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** A ZIP archive of one deflated file (APPNOTE: local header, data, central directory, EOCD). */
export function buildZip(name: string, data: Uint8Array): Buffer {
  const fname = Buffer.from(name, 'utf8');
  const packed = deflateRawSync(data);
  const crc = crc32(data) >>> 0;
  const dosTime = 0; // 00:00:00
  const dosDate = ((2024 - 1980) << 9) | (1 << 5) | 1; // 2024-01-01
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
  local.writeUInt16LE(0x0800, 6); // UTF-8 name
  local.writeUInt16LE(8, 8);
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(packed.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4); // version made by
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(packed.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  // extra, comment, disk, internal and external attributes: 0; local header offset: 0
  const cdOffset = local.length + fname.length + packed.length;
  const cdSize = central.length + fname.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, fname, packed, central, fname, eocd]);
}

export const newFileToken = (): string => randomBytes(16).toString('hex');

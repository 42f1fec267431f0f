/**
 * OKX's quarterly fills archive: fills older than fills-history's 3 months, up to 2 years.
 *
 * Flow per calendar quarter (OKX v5 "Apply for fills archive" / "Get fills archive"):
 * `GET /api/v5/trade/fills-archive?year=&quarter=` tells the file's state (`finished` with a
 * `fileHref`, `ongoing`, `failed`; no row when nothing was asked); with no row, or `failed` ("apply
 * again"), `POST /api/v5/trade/fills-archive {"year","quarter"}` asks OKX to generate it and the
 * status is read once more. OKX may take hours to generate a file, so nothing waits here: a quarter
 * that is not `finished` is reported unavailable, and the adapter's coverage starts after it.
 *
 * A finished file is a ZIP holding one CSV (./zip.ts) on OKX's file host, not the API host. Its
 * columns (**assumption**, OKX does not document them in the material we have; they mirror
 * fills-history's fields): ARCHIVE_COLUMNS, `ts` in ms. The CSV is parsed strictly (RFC 4180
 * quoting); any malformed line fails the download rather than being skipped.
 */
import { malformed } from './binance-common.js';
import type { InstType } from './okx-rows.js';

export const ARCHIVE_COLUMNS = [
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

export type ArchiveRow = Record<(typeof ARCHIVE_COLUMNS)[number], string>;

/**
 * The CSV of an archive file: the header must be ARCHIVE_COLUMNS exactly (a leading UTF-8 BOM is
 * allowed), every record has that many fields, fields are bare (no `"`, `,`, CR or LF) or quoted
 * with `""` for a quote; lines end in LF or CRLF, the last one optionally. Empty lines are refused.
 */
export function parseArchiveCsv(text: string): ArchiveRow[] {
  const bad = (line: number, what: string) => malformed(`fills archive csv line ${line}: ${what}`);
  const records: string[][] = [];
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const fields: string[] = [];
    const at = line;
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw bad(at, 'unterminated quoted field');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else {
        const start = i;
        while (i < text.length && !',\r\n"'.includes(text[i]!)) i++;
        if (text[i] === '"') throw bad(at, 'quote inside a bare field');
        field = text.slice(start, i);
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (i >= text.length) break;
      if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
      else if (text[i] === '\n') i++;
      else throw bad(at, 'junk after a field');
      line++;
      break;
    }
    if (fields.length === 1 && fields[0] === '') throw bad(at, 'empty line');
    records.push(fields);
  }
  const [header, ...rows] = records;
  if (header?.join(',') !== ARCHIVE_COLUMNS.join(',')) throw bad(1, 'unexpected header');
  return rows.map((r, k) => {
    if (r.length !== ARCHIVE_COLUMNS.length)
      throw bad(k + 2, `${r.length} fields, expected ${ARCHIVE_COLUMNS.length}`);
    return Object.fromEntries(ARCHIVE_COLUMNS.map((c, j) => [c, r[j]!])) as ArchiveRow;
  });
}

/** A CSV row as a fills-history row (the shape parseOkxFill reads); OPTION rows are not ours. */
export function archiveRowToFill(r: ArchiveRow): { instType: InstType; row: unknown } | undefined {
  if (r.instType === 'OPTION') return undefined; // options are not fetched (docs/exchanges.md)
  if (!['SPOT', 'MARGIN', 'SWAP', 'FUTURES'].includes(r.instType))
    throw malformed('fills archive instType');
  return { instType: r.instType as InstType, row: { ...r, fillTime: r.ts } };
}

export interface Quarter {
  year: number;
  /** 1..4 */
  q: number;
  /** first millisecond (UTC) */
  start: number;
  /** first millisecond of the next quarter */
  end: number;
}

export const quarterLabel = (x: Quarter) => `${x.year}Q${x.q}`;

/** The calendar quarters (UTC) overlapping [from, to), oldest first. */
export function quartersOverlapping(from: number, to: number): Quarter[] {
  const out: Quarter[] = [];
  if (!(from < to)) return out;
  const d = new Date(from);
  let year = d.getUTCFullYear();
  let q = Math.floor(d.getUTCMonth() / 3) + 1;
  for (;;) {
    const start = Date.UTC(year, (q - 1) * 3, 1);
    if (start >= to) return out;
    const end = Date.UTC(q === 4 ? year + 1 : year, q === 4 ? 0 : q * 3, 1);
    out.push({ year, q, start, end });
    [year, q] = q === 4 ? [year + 1, 1] : [year, q + 1];
  }
}

export type ArchiveState = 'finished' | 'ongoing' | 'failed' | 'none';

/** One row of GET fills-archive (untrusted): its state, and the file link when finished. */
export function parseArchiveStatus(rows: unknown[]): { state: ArchiveState; href?: string } {
  if (rows.length === 0) return { state: 'none' };
  const r = rows[0];
  if (rows.length !== 1 || typeof r !== 'object' || r === null) throw malformed('archive status');
  const { state, fileHref } = r as Record<string, unknown>;
  if (state === 'ongoing' || state === 'failed') return { state };
  if (state !== 'finished' || typeof fileHref !== 'string' || fileHref === '')
    throw malformed('archive status');
  return { state, href: fileHref };
}

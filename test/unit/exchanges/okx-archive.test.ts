/**
 * The OKX fills archive pieces on their own: the ZIP reader (good file, bad CRC, truncated, not a
 * zip), the strict CSV parser (quoted fields; a malformed line is a coded error, never skipped),
 * the archive status rows, and the quarters a span needs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ARCHIVE_COLUMNS,
  archiveRowToFill,
  parseArchiveCsv,
  parseArchiveStatus,
  quartersOverlapping,
} from '../../../src/exchanges/okx-archive.js';
import { parseOkxFill } from '../../../src/exchanges/okx-rows.js';
import { ExchangeError } from '../../../src/exchanges/types.js';
import { readSingleZipEntry } from '../../../src/exchanges/zip.js';
import { buildZip } from '../../../src/sim/okx-archive.js';

const malformedError = (what: RegExp) => (e: unknown) =>
  e instanceof ExchangeError && e.code === 'EXCHANGE_UNAVAILABLE' && what.test(e.message);

const HEADER = ARCHIVE_COLUMNS.join(',');
const ROW =
  'SPOT,"BTC-USDT",56181695,639895991331667968,,639895991340056576,,"42000.5",0.001,buy,net,T,BTC,-0.000001,1700000000000,0';

describe('readSingleZipEntry', () => {
  const csv = Buffer.from(`${HEADER}\r\n${ROW}\r\n`, 'utf8');
  const zip = buildZip('fills-2024Q1.csv', csv);

  it('reads the one entry of a good file (deflated, CRC checked)', () => {
    const e = readSingleZipEntry(zip, 1 << 20);
    assert.equal(e.name, 'fills-2024Q1.csv');
    assert.deepEqual(Buffer.from(e.data), csv);
  });

  it('a wrong CRC-32 in the central directory is refused', () => {
    const bad = Buffer.from(zip);
    const cd = bad.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bad.writeUInt32LE((bad.readUInt32LE(cd + 16) ^ 1) >>> 0, cd + 16);
    assert.throws(() => readSingleZipEntry(bad, 1 << 20), malformedError(/CRC-32/));
  });

  it('damaged compressed data is refused (inflate error or CRC mismatch)', () => {
    const bad = Buffer.from(zip);
    bad[30 + 'fills-2024Q1.csv'.length + 5]! ^= 0xff;
    assert.throws(() => readSingleZipEntry(bad, 1 << 20), malformedError(/zip/));
  });

  it('a truncated file is refused', () => {
    for (const n of [zip.length - 1, zip.length - 30, 40, 10, 0])
      assert.throws(() => readSingleZipEntry(zip.subarray(0, n), 1 << 20), malformedError(/zip/));
  });

  it('not a zip (an HTML error page) is refused', () => {
    const html = Buffer.from('<html><body>Access denied</body></html>'.repeat(3));
    assert.throws(() => readSingleZipEntry(html, 1 << 20), malformedError(/not a zip/));
  });

  it('an entry larger than the cap is refused before inflating', () => {
    assert.throws(() => readSingleZipEntry(zip, 10), malformedError(/too large/));
  });
});

describe('parseArchiveCsv', () => {
  it('reads quoted fields (commas, doubled quotes), CRLF or LF lines, a BOM, no final newline', () => {
    const rows = parseArchiveCsv(
      `\uFEFF${HEADER}\r\n${ROW}\n` +
        'SWAP,BTC-USDT-SWAP,1,2,"a,b",3,"say ""hi""",100,2,sell,net,M,USDT,0.5,1700000000001,"-1.5"',
    );
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.instId, 'BTC-USDT');
    assert.equal(rows[0]!.clOrdId, '');
    assert.equal(rows[1]!.clOrdId, 'a,b');
    assert.equal(rows[1]!.tag, 'say "hi"');
    assert.equal(rows[1]!.fillPnl, '-1.5');
    const x = archiveRowToFill(rows[0]!)!;
    const f = parseOkxFill(x.instType, x.row);
    assert.equal(f.ts, 1_700_000_000_000);
    assert.equal(f.billId, '639895991340056576');
    assert.equal(f.fee, '-0.000001');
  });

  it('a header only is an empty quarter', () => {
    assert.deepEqual(parseArchiveCsv(`${HEADER}\r\n`), []);
  });

  for (const [why, text, what] of [
    ['a missing field', `${HEADER}\n${ROW.replace(/,0$/, '')}\n`, /line 2: 15 fields/],
    ['an extra field', `${HEADER}\n${ROW},x\n`, /line 2: 17 fields/],
    [
      'an unterminated quote',
      `${HEADER}\n${ROW.replace('"42000.5"', '"42000.5')}\n`,
      /unterminated/,
    ],
    ['a quote inside a bare field', `${HEADER}\n${ROW.replace('buy', 'b"uy')}\n`, /line 2: quote/],
    [
      'junk after a quoted field',
      `${HEADER}\n${ROW.replace('"BTC-USDT"', '"BTC-USDT"x')}\n`,
      /junk/,
    ],
    ['an empty line', `${HEADER}\n${ROW}\n\n${ROW}\n`, /line 3: empty line/],
    ['another header', `${HEADER.replace('fillPnl', 'pnl')}\n${ROW}\n`, /header/],
    ['no header at all', '', /header/],
  ] as const)
    it(`${why} fails the whole file with a coded error`, () => {
      assert.throws(() => parseArchiveCsv(text), malformedError(what));
    });

  it('OPTION rows are not ours; an unknown instType is malformed', () => {
    const [opt] = parseArchiveCsv(`${HEADER}\n${ROW.replace('SPOT', 'OPTION')}\n`);
    assert.equal(archiveRowToFill(opt!), undefined);
    const [odd] = parseArchiveCsv(`${HEADER}\n${ROW.replace('SPOT', 'BOND')}\n`);
    assert.throws(() => archiveRowToFill(odd!), malformedError(/instType/));
  });
});

describe('archive status and quarters', () => {
  it('states: none, ongoing, failed, finished with a link; anything else is malformed', () => {
    assert.deepEqual(parseArchiveStatus([]), { state: 'none' });
    assert.deepEqual(parseArchiveStatus([{ state: 'ongoing', fileHref: '' }]), {
      state: 'ongoing',
    });
    assert.deepEqual(parseArchiveStatus([{ state: 'failed' }]), { state: 'failed' });
    assert.deepEqual(parseArchiveStatus([{ state: 'finished', fileHref: 'https://x/y.zip' }]), {
      state: 'finished',
      href: 'https://x/y.zip',
    });
    for (const bad of [[{ state: 'finished', fileHref: '' }], [{ state: 'done' }], [1], [{}, {}]])
      assert.throws(() => parseArchiveStatus(bad), malformedError(/archive status/));
  });

  it('the calendar quarters overlapping a span, UTC', () => {
    const q = quartersOverlapping(Date.UTC(2024, 10, 22, 13), Date.UTC(2025, 7, 24));
    assert.deepEqual(
      q.map((x) => `${x.year}Q${x.q}`),
      ['2024Q4', '2025Q1', '2025Q2', '2025Q3'],
    );
    assert.equal(q[0]!.start, Date.UTC(2024, 9, 1));
    assert.equal(q[0]!.end, Date.UTC(2025, 0, 1));
    assert.equal(q[3]!.end, Date.UTC(2025, 9, 1));
    assert.deepEqual(quartersOverlapping(Date.UTC(2025, 0, 1), Date.UTC(2025, 3, 1)).length, 1);
    assert.deepEqual(quartersOverlapping(5, 5), []);
  });
});

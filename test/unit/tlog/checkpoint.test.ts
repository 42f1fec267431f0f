/** C2SP tlog-checkpoint bodies: vectors, strictness, round trips, signed checkpoints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../../../src/tlog/checkpoint.js';
import { keyIdHex, parseSignerKey } from '../../../src/tlog/note-key.js';
import { parseNote, signNote } from '../../../src/tlog/note.js';
import { loadVectors } from './fixtures.js';

interface Vec {
  id: string;
  [k: string]: unknown;
}
const vectors = loadVectors<{ vectors: Vec[] }>('signed_note_vectors.json').vectors;
const vec = <T>(id: string): T => vectors.find((v) => v.id === id) as unknown as T;
const malformed = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_CHECKPOINT_MALFORMED');
const ROOT = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';

describe('parseCheckpoint / formatCheckpoint (C2SP tlog-checkpoint)', () => {
  it('golang.org/x/mod tlog FormatTree body: exact bytes both ways; its bad bodies are rejected', () => {
    const v = vec<{
      origin: string;
      tree_size: number;
      root_hash_hex: string;
      body: string;
      bad_bodies: string[];
    }>('go-tlog-formattree');
    const cp = parseCheckpoint(v.body, v.origin);
    assert.deepEqual(
      [cp.origin, cp.size, toHex(cp.rootHash), cp.extensions],
      [v.origin, v.tree_size, v.root_hash_hex, []],
    );
    assert.equal(
      formatCheckpoint({
        origin: v.origin,
        size: v.tree_size,
        rootHash: fromHex(v.root_hash_hex),
        extensions: [],
      }),
      v.body,
    );
    assert.throws(
      () => parseCheckpoint(v.bad_bodies[0]!, v.origin),
      (e) => hasCode(e, 'ERR_TLOG_CHECKPOINT_ORIGIN'),
    );
    for (const b of v.bad_bodies.slice(1)) assert.throws(() => parseCheckpoint(b), malformed, b);
  });

  it('C2SP example checkpoint parses (log key unpublished: signature line only parsed)', () => {
    const v = vec<{
      signed_note: string;
      parsed: { origin: string; tree_size: number; root_hash_hex: string; sig_key_id: string };
    }>('c2sp-checkpoint-example');
    const note = parseNote(v.signed_note);
    const cp = parseCheckpoint(note.text);
    assert.deepEqual(
      [cp.origin, cp.size, toHex(cp.rootHash)],
      [v.parsed.origin, v.parsed.tree_size, v.parsed.root_hash_hex],
    );
    assert.equal(keyIdHex(note.signatures[0]!.keyId), v.parsed.sig_key_id);
  });

  it('Rekor v1 checkpoints: origin with spaces and a Timestamp extension line', () => {
    const v = vec<{ cases: { signed_note: string; lines: string[] }[] }>(
      'rekor-v1-real-checkpoints',
    );
    for (const c of v.cases) {
      const cp = parseCheckpoint(parseNote(c.signed_note).text);
      assert.deepEqual(
        [cp.origin, String(cp.size), ...cp.extensions],
        [c.lines[0], c.lines[1], ...c.lines.slice(3)],
      );
      assert.equal(formatCheckpoint(cp), parseNote(c.signed_note).text);
    }
  });

  it('transparency-dev/formats bodies: the invalid ones are rejected, and so are its non-32-byte roots', () => {
    const v = vec<{ valid: { body: string }[]; invalid: { body: string; why: string }[] }>(
      'tdf-checkpoint-marshal',
    );
    for (const b of v.invalid) assert.throws(() => parseCheckpoint(b.body), malformed, b.why);
    // formats accepts "bananas" as a root; an RFC 6962 checkpoint needs exactly 32 bytes.
    for (const b of v.valid) assert.throws(() => parseCheckpoint(b.body), malformed);
  });

  it('a validly signed checkpoint with a 6-byte root is still rejected (derived vector)', () => {
    const v = vec<{ signed_note: string }>('derived-checkpoint-signed-by-Log');
    const keys = vec<{ keys: { skey: string }[] }>('tdf-keys').keys;
    const log = parseSignerKey(P, keys[0]!.skey);
    assert.equal(signNote(P, 'TestParseCheckpoint\n42\nYWJjZGVm\n', log.signer), v.signed_note);
    assert.throws(
      () => openCheckpoint(P, v.signed_note, [log.verifier], 'TestParseCheckpoint'),
      malformed,
    );
  });

  for (const [desc, body] of [
    ['a leading zero in the size', `o\n012\n${ROOT}\n`],
    ['a plus sign in the size', `o\n+12\n${ROOT}\n`],
    ['an exponent', `o\n1e3\n${ROOT}\n`],
    ['a space in the size', `o\n 12\n${ROOT}\n`],
    ['a size of 2^53', `o\n9007199254740992\n${ROOT}\n`],
    ['an empty size', `o\n\n${ROOT}\n`],
    ['an unpadded root', `o\n1\n${ROOT.slice(0, -1)}\n`],
    ['a 31-byte root', `o\n1\n${'A'.repeat(40)}AA==\n`],
    ['a 33-byte root', `o\n1\n${'A'.repeat(44)}\n`],
    ['an empty extension line', `o\n1\n${ROOT}\n\n`],
    ['a CR in the origin', `o\r\n1\n${ROOT}\n`],
    ['CRLF line ends', `o\r\n1\r\n${ROOT}\r\n`],
    ['no final newline', `o\n1\n${ROOT}`],
    ['only two lines', `o\n1\n`],
  ] as const) {
    it(`when the body has ${desc} › throws ERR_TLOG_CHECKPOINT_MALFORMED`, () => {
      assert.throws(() => parseCheckpoint(body), malformed);
    });
  }

  it('accepts the empty tree and the largest safe size', () => {
    assert.equal(parseCheckpoint(`o\n0\n${ROOT}\n`).size, 0);
    assert.equal(parseCheckpoint(`o\n9007199254740991\n${ROOT}\n`).size, Number.MAX_SAFE_INTEGER);
  });

  it('fast-check: format → parse is the identity', () => {
    // eslint-disable-next-line no-control-regex
    const line = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\x00-\x1f]/.test(s));
    fc.assert(
      fc.property(
        line,
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, rootHash, extensions) => {
          const body = formatCheckpoint({ origin, size, rootHash, extensions });
          assert.deepEqual(parseCheckpoint(body, origin), { origin, size, rootHash, extensions });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('formatCheckpoint › when a field is invalid › throws ERR_TLOG_CHECKPOINT_MALFORMED', () => {
    const ok = { origin: 'o', size: 1, rootHash: new Uint8Array(32), extensions: [] };
    for (const cp of [
      { ...ok, origin: '' },
      { ...ok, origin: 'a\nb' },
      { ...ok, size: -1 },
      { ...ok, size: 1.5 },
      { ...ok, rootHash: new Uint8Array(31) },
      { ...ok, extensions: [''] },
    ]) {
      assert.throws(() => formatCheckpoint(cp), malformed);
    }
  });
});

describe('openCheckpoint', () => {
  const keys = vec<{ keys: { skey: string }[] }>('tdf-keys').keys;
  const log = parseSignerKey(P, keys[0]!.skey);
  const body = formatCheckpoint({
    origin: 'Log',
    size: 8,
    rootHash: new Uint8Array(32).fill(7),
    extensions: [],
  });

  it('opens a checkpoint signed by the log and returns its fields', () => {
    const { checkpoint, note } = openCheckpoint(
      P,
      signNote(P, body, log.signer),
      [log.verifier],
      'Log',
    );
    assert.equal(checkpoint.size, 8);
    assert.equal(note.signatures[0]!.name, 'Log');
  });

  it('when the origin is another log › throws ERR_TLOG_CHECKPOINT_ORIGIN', () => {
    assert.throws(
      () => openCheckpoint(P, signNote(P, body, log.signer), [log.verifier], 'Other'),
      (e) => hasCode(e, 'ERR_TLOG_CHECKPOINT_ORIGIN'),
    );
  });
});

/** C2SP signed-note vectors (test/vectors/tlog/signed_note_vectors.json) and hostile notes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex, utf8 } from '../../../src/common/bytes.js';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { webPlatform } from '../../../src/platform/web.js';
import {
  formatVerifierKey,
  isValidKeyName,
  keyIdHex,
  noteKeyId,
  parseSignerKey,
  parseVerifierKey,
  verifierFromSigner,
  type NoteVerifier,
} from '../../../src/tlog/note-key.js';
import { MAX_NOTE_SIGNATURES, openNote, parseNote, signNote } from '../../../src/tlog/note.js';
import { loadVectors } from './fixtures.js';

interface Vec {
  id: string;
  [k: string]: unknown;
}
const vectors = loadVectors<{ vectors: Vec[] }>('signed_note_vectors.json').vectors;
const vec = <T>(id: string): T => vectors.find((v) => v.id === id) as unknown as T;
const code = (c: string) => (e: unknown) => hasCode(e, c);

interface KeyVec {
  name: string;
  vkey: string;
  skey: string;
  seed_hex: string;
  public_key_hex: string;
  key_id: string;
}
const peter = vec<KeyVec & { note_text: string; signed_note: string }>('go-note-peterneumann');
const doubly = vec<{
  vkeys: string[];
  enoch_seed_hex: string;
  note_text: string;
  signed_note: string;
}>('go-note-doubly-signed');
const negative = vec<{ vkey: string; cases: { desc: string; msg: string; expect: string }[] }>(
  'go-note-negative',
);
const tdfKeys = vec<{ keys: KeyVec[] }>('tdf-keys').keys;

for (const P of [nodePlatform, webPlatform]) {
  describe(`signed note vectors (${P.name} platform)`, () => {
    it('PeterNeumann (golang.org/x/mod): key ID, vkey, and the signed note reproduced byte for byte', () => {
      const { signer, verifier } = parseSignerKey(P, peter.skey);
      assert.equal(toHex(signer.privateKey), peter.seed_hex);
      assert.equal(toHex(verifier.publicKey), peter.public_key_hex);
      assert.equal(keyIdHex(verifier.keyId), peter.key_id);
      assert.equal(formatVerifierKey(P, 'PeterNeumann', verifier.publicKey), peter.vkey);
      assert.deepEqual(parseVerifierKey(P, peter.vkey), verifier);
      assert.equal(signNote(P, peter.note_text, signer), peter.signed_note);
      const opened = openNote(P, peter.signed_note, [verifier]);
      assert.equal(opened.text, peter.note_text);
      assert.deepEqual(
        opened.signatures.map((s) => [s.name, keyIdHex(s.keyId)]),
        [['PeterNeumann', 'c74f20a3']],
      );
    });

    it('doubly signed note: valid with either key; the unknown key is ignored, not rejected', () => {
      const [pv, ev] = doubly.vkeys.map((k) => parseVerifierKey(P, k)) as [
        NoteVerifier,
        NoteVerifier,
      ];
      const enoch = { name: 'EnochRoot', privateKey: fromHex(doubly.enoch_seed_hex) };
      assert.deepEqual(verifierFromSigner(P, enoch), ev);
      const peterSigner = parseSignerKey(P, peter.skey).signer;
      assert.equal(signNote(P, doubly.note_text, [peterSigner, enoch]), doubly.signed_note);
      const onlyPeter = openNote(P, doubly.signed_note, [pv]);
      assert.deepEqual(
        onlyPeter.signatures.map((s) => s.name),
        ['PeterNeumann'],
      );
      assert.deepEqual(
        onlyPeter.unverified.map((s) => s.name),
        ['EnochRoot'],
      );
      assert.deepEqual(
        openNote(P, doubly.signed_note, [ev]).signatures.map((s) => s.name),
        ['EnochRoot'],
      );
      assert.equal(openNote(P, doubly.signed_note, [pv, ev]).signatures.length, 2);
    });

    it('C2SP example.com/foo: the key ID is recomputed and the signature verifies', () => {
      const ex = vec<{ vkey: string; signed_note: string; note_text: string }>(
        'c2sp-signed-note-example',
      );
      assert.equal(openNote(P, ex.signed_note, [parseVerifierKey(P, ex.vkey)]).text, ex.note_text);
      assert.equal(
        openNote(P, utf8(ex.signed_note), [parseVerifierKey(P, ex.vkey)]).text,
        ex.note_text,
      );
    });

    it('transparency-dev/formats keys: skey → vkey, key IDs', () => {
      for (const k of tdfKeys) {
        const { verifier } = parseSignerKey(P, k.skey);
        assert.equal(keyIdHex(verifier.keyId), k.key_id);
        assert.equal(toHex(verifier.publicKey), k.public_key_hex);
        assert.equal(formatVerifierKey(P, k.name, verifier.publicKey), k.vkey);
        assert.equal(keyIdHex(noteKeyId(P, k.name, fromHex(k.public_key_hex))), k.key_id);
      }
    });
  });
}

const P = nodePlatform;
const peterKey = parseVerifierKey(P, peter.vkey);
const peterSigner = parseSignerKey(P, peter.skey).signer;

describe('openNote: Go negative cases', () => {
  for (const c of negative.cases) {
    const want = c.expect.startsWith('invalid signature')
      ? 'ERR_TLOG_NOTE_SIGNATURE'
      : 'ERR_TLOG_NOTE_MALFORMED';
    it(`${c.desc} › throws ${want}`, () => {
      assert.throws(() => openNote(P, c.msg, [peterKey]), code(want));
    });
  }
});

describe('openNote: key matching and limits', () => {
  const known = tdfKeys.map((k) => parseSignerKey(P, k.skey));
  const [log, knownKey, again, unknown] = known as [
    (typeof known)[0],
    (typeof known)[0],
    (typeof known)[0],
    (typeof known)[0],
  ];
  const text = 'example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('when no known key signed › throws ERR_TLOG_NOTE_UNVERIFIED', () => {
    const note = signNote(P, text, unknown.signer);
    assert.throws(() => openNote(P, note, [log.verifier]), code('ERR_TLOG_NOTE_UNVERIFIED'));
    assert.throws(() => openNote(P, note, []), code('ERR_TLOG_NOTE_UNVERIFIED'));
  });

  it('a signature whose name or key ID (not both) matches a known key is ignored', () => {
    const sameName = { name: log.verifier.name, privateKey: unknown.signer.privateKey };
    const note = signNote(P, text, [sameName, log.signer]);
    const opened = openNote(P, note, [log.verifier]);
    assert.equal(opened.signatures.length, 1);
    assert.equal(opened.unverified.length, 1);
    // Same key ID, another name.
    const renamed = { ...log.verifier, name: 'other.example/log' };
    assert.throws(
      () => openNote(P, signNote(P, text, log.signer), [renamed]),
      code('ERR_TLOG_NOTE_UNVERIFIED'),
    );
  });

  it('when a known key signature is invalid › throws ERR_TLOG_NOTE_SIGNATURE even if another known key verifies', () => {
    const good = signNote(P, text, [log.signer, knownKey.signer]);
    const lines = good.split('\n');
    const forged = signNote(P, text.replace('\n1\n', '\n2\n'), knownKey.signer).split('\n').at(-2)!;
    const tampered = [...lines.slice(0, -2), forged, ''].join('\n');
    assert.throws(
      () => openNote(P, tampered, [log.verifier, knownKey.verifier]),
      code('ERR_TLOG_NOTE_SIGNATURE'),
    );
    assert.equal(openNote(P, tampered, [log.verifier]).signatures.length, 1);
  });

  it('a repeated signature by one key counts once', () => {
    const note = signNote(P, text, [again.signer, again.signer]);
    assert.equal(openNote(P, note, [again.verifier]).signatures.length, 1);
  });

  it(`accepts ${MAX_NOTE_SIGNATURES} signature lines (the spec asks for at least 16) and rejects more`, () => {
    const one = signNote(P, text, unknown.signer).split('\n').at(-2)!;
    const mine = signNote(P, text, log.signer).split('\n').at(-2)!;
    const withSigs = (n: number): string =>
      `${text}\n${[mine, ...Array(n - 1).fill(one)].join('\n')}\n`;
    assert.equal(openNote(P, withSigs(16), [log.verifier]).signatures.length, 1);
    assert.equal(openNote(P, withSigs(MAX_NOTE_SIGNATURES), [log.verifier]).unverified.length, 1);
    assert.throws(
      () => openNote(P, withSigs(MAX_NOTE_SIGNATURES + 1), [log.verifier]),
      code('ERR_TLOG_NOTE_MALFORMED'),
    );
  });
});

describe('parseNote: strict syntax', () => {
  const good = signNote(P, 'hello\n', peterSigner);
  const sig = good.split('\n').at(-2)!;
  const bad: [string, string | Uint8Array][] = [
    ['no final newline', good.slice(0, -1)],
    ['CR in the text', `hel\rlo\n\n${sig}\n`],
    ['tab in the text', `hel\tlo\n\n${sig}\n`],
    ['NUL in a signature line', `hello\n\n${sig}\0\n`],
    ['hyphen instead of em dash', `hello\n\n${sig.replace('\u2014', '-')}\n`],
    ['no space after the name', `hello\n\n\u2014 PeterNeumann\n`],
    ['non-canonical base64', `hello\n\n${sig.slice(0, -1)}\n`],
    ['signature shorter than 5 bytes', `hello\n\n\u2014 PeterNeumann AAAAAA==\n`],
    ['a plus sign in the key name', `hello\n\n${sig.replace('PeterNeumann', 'Peter+Neumann')}\n`],
    [
      'a no-break space in the key name',
      `hello\n\n${sig.replace('PeterNeumann', 'Peter\u00a0Neumann')}\n`,
    ],
    ['an empty key name', `hello\n\n${sig.replace('PeterNeumann', '')}\n`],
    ['a lone surrogate', `hel\ud800lo\n\n${sig}\n`],
    ['invalid UTF-8 bytes', Uint8Array.of(...utf8('hel'), 0xff, ...utf8(`lo\n\n${sig}\n`))],
    ['a number instead of text', 42 as never],
  ];
  for (const [desc, input] of bad) {
    it(`when the note has ${desc} › throws ERR_TLOG_NOTE_MALFORMED`, () => {
      assert.throws(() => parseNote(input), code('ERR_TLOG_NOTE_MALFORMED'));
    });
  }

  it('splits at the last blank line: texts with inner blank lines and non-ASCII UTF-8 (C2SP intro)', () => {
    const intro = vec<{
      signed_note: string;
      parsed: { text: string; key_name: string; key_id: string; sig_len: number };
    }>('c2sp-signed-note-intro');
    const { text, signatures } = parseNote(intro.signed_note);
    assert.equal(text, intro.parsed.text);
    assert.equal(signatures[0]!.name, intro.parsed.key_name);
    assert.equal(keyIdHex(signatures[0]!.keyId), intro.parsed.key_id);
    assert.equal(signatures[0]!.signature.length, intro.parsed.sig_len);
  });

  it('keeps a leading byte-order mark as part of the signed text', () => {
    const note = signNote(P, '\ufeffhello\n', peterSigner);
    assert.equal(openNote(P, utf8(note), [peterKey]).text, '\ufeffhello\n');
  });

  it('fast-check: any valid text round-trips through signNote/openNote, from a string or bytes', () => {
    const line = fc
      .string({ unit: 'grapheme', maxLength: 20 })
      // eslint-disable-next-line no-control-regex
      .map((s) => s.replace(/[\x00-\x1f]/g, ''));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        const note = signNote(P, text, peterSigner);
        assert.equal(openNote(P, note, [peterKey]).text, text);
        assert.equal(openNote(P, utf8(note), [peterKey]).text, text);
      }),
      { numRuns: 100 },
    );
  });

  it('fast-check: arbitrary strings never throw anything but ERR_TLOG_NOTE_*', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }).map((s) => `${s}\n\n\u2014 ${s}\n`),
        ),
        (s) => {
          try {
            openNote(P, s, [peterKey]);
          } catch (e) {
            assert.ok(
              hasCode(e, 'ERR_TLOG_NOTE_MALFORMED') ||
                hasCode(e, 'ERR_TLOG_NOTE_SIGNATURE') ||
                hasCode(e, 'ERR_TLOG_NOTE_UNVERIFIED'),
              String(e),
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('signNote', () => {
  it('when the text does not end in a newline or has control characters › throws ERR_TLOG_NOTE_MALFORMED', () => {
    for (const text of ['hello', 'a\rb\n', 'a\u0000\n', '']) {
      assert.throws(() => signNote(P, text, peterSigner), code('ERR_TLOG_NOTE_MALFORMED'));
    }
  });
  it('when the key name is invalid or the seed is not 32 bytes › throws ERR_TLOG_NOTE_MALFORMED', () => {
    assert.throws(
      () => signNote(P, 'a\n', { name: 'a b', privateKey: peterSigner.privateKey }),
      code('ERR_TLOG_NOTE_MALFORMED'),
    );
    assert.throws(
      () => signNote(P, 'a\n', { name: 'a', privateKey: new Uint8Array(31) }),
      code('ERR_TLOG_NOTE_MALFORMED'),
    );
    assert.throws(() => signNote(P, 'a\n', []), code('ERR_TLOG_NOTE_MALFORMED'));
  });
});

describe('verifier keys', () => {
  const bad = code('ERR_TLOG_KEY_MALFORMED');
  it('the base64 part may contain "+": only the first two are separators', () => {
    const k = tdfKeys.find((x) => x.name === 'Unknown')!; // its base64 holds '+'
    assert.ok(k.vkey.split('+').length > 3);
    assert.equal(keyIdHex(parseVerifierKey(P, k.vkey).keyId), k.key_id);
  });
  it('when the key is not Ed25519 (ECDSA 0x02, RFC 6962 0x05) › throws ERR_TLOG_KEY_MALFORMED', () => {
    const cases = vec<{ cases: { vkey: string }[] }>('tdf-nonEd25519-keyids').cases;
    for (const c of cases) assert.throws(() => parseVerifierKey(P, c.vkey), bad);
  });
  it('when the key ID does not match name and key, or a part is malformed › throws ERR_TLOG_KEY_MALFORMED', () => {
    const [name, id, key] = [
      peter.vkey.split('+')[0]!,
      'c74f20a3',
      peter.vkey.slice(peter.vkey.lastIndexOf('+') + 1),
    ];
    for (const vkey of [
      `${name}+c74f20a4+${key}`,
      `Other+${id}+${key}`,
      `${name}+${id}`,
      `${name}+c74f20a+${key}`,
      `${name}+c74f20a3x+${key}`,
      `+${id}+${key}`,
      `${name}+${id}+${key}=`,
      `${name}+${id}+${key.slice(0, -4)}`,
      42 as never,
    ]) {
      assert.throws(() => parseVerifierKey(P, vkey), bad, String(vkey));
    }
    assert.throws(() => formatVerifierKey(P, 'a b', new Uint8Array(32)), bad);
    assert.throws(() => formatVerifierKey(P, 'a', new Uint8Array(31)), bad);
    assert.throws(() => parseSignerKey(P, peter.vkey), bad);
  });
  it('isValidKeyName follows the spec: non-empty, no Unicode space, no plus', () => {
    for (const ok of ['example.com/log', 'PeterNeumann', 'é/ü'])
      assert.equal(isValidKeyName(ok), true);
    for (const no of ['', 'a b', 'a+b', 'a\u2003b', 'a\u0085b', 'a\nb', 'a\u0001b', 42])
      assert.equal(isValidKeyName(no), false);
  });
});

/**
 * CHECK constraints are the last line behind the API's schemas: a malformed envelope or label
 * never reaches storage, and a rejected session leaves no row at all (one transaction).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { b64, count, envelope, newSession, newSessionId, rejectsWith } from './fixtures.js';
import type { NewSession, StoredEnvelope } from '../../../src/store/types.js';

let t: TestDb;
before(async () => {
  t = await openTestDb();
});
after(() => t.close());

/** Base64 of n bytes (n % 3 != 0) whose last data char has a non-zero padding bit: not canonical. */
function nonCanonical(n: number): string {
  const s = b64(n);
  const last = s.indexOf('=') - 1;
  // 'B' is sextet 000001: its lowest bit is always one of the unused padding bits.
  return `${s.slice(0, last)}B${s.slice(last + 1)}`;
}

async function assertRejected(s: NewSession, constraint: string): Promise<void> {
  await rejectsWith(t.store.createSession(s), 'STORE_CONSTRAINT', {
    sqlState: '23514',
    constraint,
  });
  assert.equal(await count(t.db, 'SELECT 1 FROM sessions WHERE session_id = $1', [s.sessionId]), 0);
  assert.equal(
    await count(t.db, 'SELECT 1 FROM credentials WHERE session_id = $1', [s.sessionId]),
    0,
  );
}

const withEnvelope = (over: Partial<StoredEnvelope>) => newSession({ envelope: envelope(over) });

describe('credentials CHECK constraints', () => {
  test('accept a valid envelope at every length bound', async () => {
    for (const ciphertext of [b64(1), b64(2), b64(3), b64(8192)]) {
      const s = withEnvelope({ ciphertext });
      await t.store.createSession(s);
      assert.deepEqual(await t.store.getCredential(s.sessionId), s.envelope);
    }
  });

  const ephemeral: Array<[string, string]> = [
    ['non-base64 characters', '!'.repeat(43) + '='],
    ['base64url alphabet', b64(32).replace(/.(?==$)/, '_')],
    ['unpadded', b64(32).replace(/=+$/, '')],
    [
      'an embedded newline',
      (() => {
        const s = b64(32);
        return `${s.slice(0, 20)}\n${s.slice(20)}`;
      })(),
    ],
    ['a trailing newline', `${b64(32)}\n`],
    ['31 decoded bytes', b64(31)],
    ['33 decoded bytes', b64(33)],
    ['non-zero padding bits', nonCanonical(32)],
    ['an empty string', ''],
  ];
  for (const [what, ephemeralPub] of ephemeral) {
    test(`reject ephemeral_pub with ${what} and store nothing`, () =>
      assertRejected(withEnvelope({ ephemeralPub }), 'credentials_ephemeral_pub_b64'));
  }

  for (const [what, nonce] of [
    ['11 decoded bytes', b64(11)],
    ['13 decoded bytes', b64(13)],
    ['a space', `${b64(12).slice(0, 15)} `],
  ] as const) {
    test(`reject nonce with ${what}`, () =>
      assertRejected(withEnvelope({ nonce }), 'credentials_nonce_b64'));
  }

  for (const [what, tag] of [
    ['15 decoded bytes', b64(15)],
    ['17 decoded bytes', b64(17)],
    ['non-zero padding bits', nonCanonical(16)],
  ] as const) {
    test(`reject tag with ${what}`, () =>
      assertRejected(withEnvelope({ tag }), 'credentials_tag_b64'));
  }

  for (const [what, ciphertext] of [
    ['no bytes', ''],
    ['8193 decoded bytes (same encoded length as 8192)', b64(8193)],
    ['1 MiB', b64(1 << 20)],
    ['an embedded newline', `${b64(48)}\n${b64(48)}`],
    ['missing padding', b64(10).replace(/=+$/, '')],
    ['padding in the middle', `${b64(10)}${b64(12)}`],
  ] as const) {
    test(`reject ciphertext with ${what}`, () =>
      assertRejected(withEnvelope({ ciphertext }), 'credentials_ciphertext_b64'));
  }

  for (const keyId of [
    '0123456789ABCDEF',
    '0123456789abcde',
    '0123456789abcdef0',
    'g123456789abcdef',
  ]) {
    test(`reject key_id ${JSON.stringify(keyId)}`, () =>
      assertRejected(withEnvelope({ keyId }), 'credentials_key_id_hex'));
  }
});

describe('sessions CHECK constraints', () => {
  for (const label of [
    '',
    'x'.repeat(65),
    'a\nb',
    'main\n',
    'a/b',
    '<script>',
    'tab\there',
    'émoji',
  ]) {
    test(`reject label ${JSON.stringify(label)}`, () =>
      assertRejected(newSession({ label }), 'sessions_label_format'));
  }

  test('accept a label of 64 allowed characters', async () => {
    const s = newSession({ label: 'Az09 _.-'.repeat(8) });
    await t.store.createSession(s);
    assert.equal((await t.store.getSession(s.sessionId))?.label, s.label);
  });

  for (const [what, sessionId] of [
    ['padded base64', randomBytes(32).toString('base64')],
    ['42 chars', newSessionId().slice(0, 42)],
    ['non-zero padding bits', newSessionId().slice(0, 42) + 'B'],
  ] as const) {
    test(`reject a session id with ${what}`, () =>
      assertRejected(newSession({ sessionId }), 'sessions_session_id_b64url'));
  }

  test('reject an exchange id outside [a-z0-9_]', () =>
    assertRejected(newSession({ exchange: 'Binance;' }), 'sessions_exchange_id'));

  test('reject an expiry before creation', () =>
    assertRejected(
      newSession({ expiresAt: new Date(Date.now() - 1000) }),
      'sessions_expiry_after_creation',
    ));

  test('reject a duplicate session id without touching the first', async () => {
    const s = newSession();
    await t.store.createSession(s);
    await rejectsWith(t.store.createSession({ ...s, envelope: envelope() }), 'STORE_CONSTRAINT', {
      sqlState: '23505',
    });
    assert.deepEqual(await t.store.getCredential(s.sessionId), s.envelope);
  });
});

/**
 * `/a/<account>`: every logged result of an account fingerprint, newest first, revoked ones as
 * hashes (protocol §6). Each live entry is checked here (this account's, signed by the attested key,
 * leaf hash = hash of its content); its own page `/r/<leaf_index>` adds the inclusion proof and the
 * checkpoint.
 */
import { byId, fill, h, verdictSetter } from './dom.js';
import { formatValue, headline } from './format.js';
import { apiMessage, CHECK_CODES, RESULT_CHECKS } from './messages.js';
import { api, errorCode, getJson } from './net.js';
import { TrustPanel, type TrustState } from './trust.js';
import { verifyHistoryEntry, type AccountHistory } from './verify-entry.js';

const PATH = /^\/a\/([0-9a-f]{64})\/?$/;

export async function accountPage(): Promise<void> {
  const body = byId('account-body');
  const setVerdict = verdictSetter(byId('account-verdict'));
  const m = PATH.exec(location.pathname);
  if (!m) {
    setVerdict('bad', 'This is not a valid account link (64 lowercase hex characters).');
    byId('trust').hidden = true;
    return;
  }
  const account = m[1]!;
  let hist: AccountHistory;
  try {
    hist = await getJson<AccountHistory>(`/api/log/accounts/${account}`);
  } catch (e) {
    const { code, retryAfter } = errorCode(e);
    setVerdict('bad', `Could not load the account. ${apiMessage(code, retryAfter)}`);
    byId('trust').hidden = true;
    return;
  }
  const entries = [...hist.entries].sort((a, b) => b.leaf_index - a.leaf_index);
  const revoked = entries.filter((e) => e.status !== 'live').length;

  const render = (trust: TrustState | null): void => {
    let bad = 0;
    const items = entries.map((e) => {
      const link = h('a', { href: `/r/${e.leaf_index}` }, `Result #${e.leaf_index}`);
      const logged = h(
        'span',
        { class: 'hint' },
        ` · logged ${formatValue(e.logged_at, 'time', '')}`,
      );
      if (e.status !== 'live' || !e.aggregates_signed)
        return h(
          'li',
          { class: 'entry revoked', 'data-leaf': e.leaf_index },
          h('h2', {}, link, logged),
          h(
            'p',
            {},
            h('strong', {}, 'Revoked by the owner. '),
            'Leaf hash ',
            h('code', { class: 'wrap' }, e.leaf_hash),
          ),
        );
      const p = e.aggregates_signed.payload;
      const v = trust ? verifyHistoryEntry(e, account, trust) : null;
      const failed = v?.checks.filter((c) => !c.ok) ?? [];
      if (v && !v.valid) bad++;
      const status = !trust
        ? 'Not checked: the enclave’s attestation could not be fetched.'
        : v!.valid
          ? 'Signature, key and leaf hash verified in your browser. Open it for the log proof.'
          : !trust.verdict.valid
            ? 'Not verified: the enclave’s attestation does not verify under a root you trust.'
            : `Does not verify: ${failed.map((c) => `${RESULT_CHECKS[c.name] ?? c.name} (${CHECK_CODES[c.code ?? ''] ?? c.code})`).join('; ')}.`;
      return h(
        'li',
        { class: `entry ${v?.valid ? 'ok' : 'bad'}`, 'data-leaf': e.leaf_index },
        h('h2', {}, link, logged),
        h(
          'p',
          { class: 'headline' },
          [p['exchange'], p['label']].filter((x) => typeof x === 'string').join(' · '),
          ' — ',
          headline(p),
        ),
        h(
          'p',
          { class: 'hint' },
          `Period ${formatValue(p['from'], 'time', '')} to ${formatValue(p['to'], 'time', '')}`,
        ),
        h(
          'p',
          { class: 'entry-status' },
          h('span', { 'aria-hidden': 'true' }, v?.valid ? '✓ ' : '✗ '),
          status,
        ),
      );
    });
    fill(
      body,
      h(
        'p',
        {},
        `${hist.count} result${hist.count === 1 ? '' : 's'} on the log for account `,
        h('code', { class: 'wrap' }, account),
        revoked ? `, ${revoked} revoked by the owner` : '',
        '. Newest first.',
      ),
      entries.length ? h('ol', { class: 'entries' }, ...items) : h('p', {}, 'Nothing logged yet.'),
    );
    if (!trust) setVerdict('bad', 'Not verified: the enclave’s attestation could not be fetched.');
    else if (!trust.verdict.valid)
      setVerdict(
        'warn',
        'Not verified yet: the enclave’s attestation does not verify under a root you trust.',
      );
    else if (bad) setVerdict('bad', `${bad} of these entries do not verify.`);
    else setVerdict('ok', 'Every live entry verifies in your browser.');
  };

  const panel = new TrustPanel(byId('trust'), api(), render);
  await panel.start();
}

/**
 * `/r/<leaf_index>`, public: loads the entry and its proofs from the log API and re-verifies all of
 * it in the visitor's browser against the attestation root and the expected image hash. A revoked
 * entry shows "revoked by the owner" with its leaf hash (still proved to be in the log).
 */
import { byId, fill, h, verdictSetter } from './dom.js';
import { equityCharts } from './charts.js';
import { formatValue, headline, metricsTable } from './format.js';
import { apiMessage, RESULT_CHECKS } from './messages.js';
import { api, errorCode, getJson } from './net.js';
import { checksList, TrustPanel, type TrustState } from './trust.js';
import { verifyEntry, type AccountHistory, type LogEntry } from './verify-entry.js';

const PATH = /^\/r\/(0|[1-9][0-9]{0,14})\/?$/;
const ACCOUNT = /^[0-9a-f]{64}$/;

export async function sharedPage(): Promise<void> {
  const body = byId('shared-body');
  const setVerdict = verdictSetter(byId('shared-verdict'));
  const m = PATH.exec(location.pathname);
  if (!m) {
    setVerdict('bad', 'This is not a valid result link.');
    byId('trust').hidden = true;
    return;
  }
  const index = Number(m[1]);
  byId('shared-title').textContent = `Shared result #${index}`;
  document.title = `Result #${index} — perf-aggregator`;

  let entry: LogEntry;
  try {
    entry = await getJson<LogEntry>(`/api/log/entries/${index}`);
  } catch (e) {
    const { code, retryAfter } = errorCode(e);
    setVerdict(
      'bad',
      code === 'NOT_FOUND'
        ? `There is no result #${index} on this log.`
        : `Could not load the entry. ${apiMessage(code, retryAfter)}`,
    );
    byId('trust').hidden = true;
    return;
  }

  const checksEl = h('div', { id: 'shared-checks' });
  const live = entry.status === 'live' && entry.aggregates_signed !== null;
  if (live) {
    const p = entry.aggregates_signed!.payload;
    const who = [p['exchange'], p['label']].filter((x) => typeof x === 'string').join(' · ');
    const account =
      typeof p['account'] === 'string' && ACCOUNT.test(p['account']) ? p['account'] : null;
    const history = h('p', { id: 'account-line' });
    fill(
      body,
      h('p', { class: 'headline', id: 'shared-headline' }, who ? `${who} — ` : '', headline(p)),
      equityCharts(p),
      metricsTable(p, 'Signed metrics'),
      history,
      h('h2', {}, 'Verification in your browser'),
      checksEl,
      h('p', { class: 'hint' }, `Logged ${formatValue(entry.logged_at, 'time', '')}.`),
    );
    if (account)
      void getJson<AccountHistory>(`/api/log/accounts/${account}`)
        .then((hist) => {
          const revoked = hist.entries.filter((e) => e.status === 'revoked').length;
          fill(
            history,
            `This account has ${hist.count} result${hist.count === 1 ? '' : 's'} on the log`,
            revoked ? ` (${revoked} revoked)` : '',
            '. ',
            h('a', { href: `/a/${account}` }, 'See them all'),
          );
        })
        .catch(() =>
          fill(history, h('a', { href: `/a/${account}` }, 'Every result of this account')),
        );
  } else {
    fill(
      body,
      h(
        'p',
        { class: 'revoked', id: 'revoked-note' },
        'The owner revoked this result: it and its signature were purged from the service. ' +
          'The public log keeps only this entry’s hash, so the account’s history still counts it.',
      ),
      h(
        'dl',
        {},
        h(
          'div',
          {},
          h('dt', {}, 'Leaf hash'),
          h('dd', { class: 'mono wrap', id: 'leaf-hash' }, entry.leaf_hash),
        ),
        h('div', {}, h('dt', {}, 'Logged'), h('dd', {}, formatValue(entry.logged_at, 'time', ''))),
      ),
      h('h2', {}, 'Verification in your browser'),
      checksEl,
    );
  }

  let seq = 0;
  const evaluate = async (trust: TrustState | null): Promise<void> => {
    const mine = ++seq;
    if (!trust) {
      setVerdict('bad', 'Not verified: the enclave’s attestation could not be fetched.');
      checksEl.replaceChildren();
      return;
    }
    setVerdict('pending', 'Verifying in your browser…');
    const v = await verifyEntry(entry, index, trust);
    if (mine !== seq) return;
    fill(checksEl, checksList(v.checks, RESULT_CHECKS, 'Result checks'));
    const attested = trust.verdict.valid;
    if (!live)
      setVerdict(
        v.valid ? 'muted' : attested ? 'bad' : 'warn',
        v.valid
          ? 'Revoked by the owner. Its leaf hash is still in the log (verified in your browser).'
          : attested
            ? 'Revoked by the owner, and its log proof does not verify.'
            : 'Revoked by the owner. The log proof is not verified: the enclave’s attestation does not verify under a root you trust.',
      );
    else if (v.valid)
      setVerdict(
        'ok',
        trust.devRootTrusted
          ? 'Verified in your browser (under the development root you chose to trust).'
          : 'Verified in your browser: signed by the attested enclave and included in the public log.',
      );
    else if (!attested)
      setVerdict(
        'warn',
        'Not verified yet: the enclave’s attestation does not verify under a root you trust.',
      );
    else
      setVerdict(
        'bad',
        'This result does not verify: its signature or log proof is wrong. Do not rely on these numbers.',
      );
    // Struck through only when a trusted enclave's check failed (tampering), not while the
    // visitor has not chosen a root yet.
    body.classList.toggle('unverified', attested && !v.valid);
  };

  const panel = new TrustPanel(byId('trust'), api(), (s) => void evaluate(s));
  await panel.start();
}

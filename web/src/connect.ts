/**
 * `/`: verify the enclave, seal the exchange keys in this page, submit only the envelope, then show
 * the signed result with its verification, and the download / share / revoke actions.
 *
 * Secrets: the API secret and passphrase are read from their inputs only at the moment of sealing,
 * the inputs are cleared at once, and the plaintext object is dropped when sealing returns (JS
 * cannot zero a string; it becomes garbage). They are never written to storage, the URL, the
 * console or an error message, and only the envelope leaves the page.
 */
import { ApiCallError } from '../../src/client/api-client.js';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { formatProgress } from '../../src/client/progress-text.js';
import type { AggregatesResponseV1 } from '../../src/client/verify-aggregates.js';
import { equityCharts } from './charts.js';
import { byId, fill, h } from './dom.js';
import { EXCHANGES, exchangeInfo } from './exchanges.js';
import { headline, metricsTable } from './format.js';
import { apiMessage, RESULT_CHECKS } from './messages.js';
import { api, errorCode, getJson } from './net.js';
import { checksList, TrustPanel, type TrustState } from './trust.js';

const LABEL = /^[A-Za-z0-9 _.-]{1,64}$/;

type Result = AggregatesResponseV1 & { logs_url?: string };

interface DemoAccounts {
  exchanges: Record<string, { apiKey: string; apiSecret: string; passphrase?: string }>;
}

export async function connectPage(): Promise<void> {
  const client = api();
  const form = byId<HTMLFormElement>('connect-form');
  const submit = byId<HTMLButtonElement>('submit');
  const exchangeEl = byId<HTMLSelectElement>('exchange');
  const labelEl = byId<HTMLInputElement>('label');
  const ttlEl = byId<HTMLSelectElement>('ttl');
  const keyEl = byId<HTMLInputElement>('api-key');
  const secretEl = byId<HTMLInputElement>('api-secret');
  const passEl = byId<HTMLInputElement>('passphrase');
  const errorEl = byId('form-error');
  const statusEl = byId('form-status');
  const resultEl = byId('result');
  let busy = false;

  const panel = new TrustPanel(byId('trust'), client, (s) => {
    submit.disabled = busy || !s?.verdict.valid;
    byId('submit-hint').textContent = s?.verdict.valid
      ? 'The enclave verified: your keys will be sealed to its attested key.'
      : 'Enabled once the enclave verifies.';
  });

  for (const e of EXCHANGES) exchangeEl.append(h('option', { value: e.id }, e.name));
  // A development instance simulates its exchanges and says so, with demo accounts to try.
  const demo = await getJson<DemoAccounts>('/dev/demo-accounts').catch(() => null);
  const demoOffer = (id: string): HTMLElement | null => {
    const account = demo?.exchanges[id];
    if (!account) return null;
    const use = h(
      'button',
      { type: 'button', id: 'use-demo', class: 'secondary' },
      'Use the demo account',
    );
    use.addEventListener('click', () => {
      keyEl.value = account.apiKey;
      secretEl.value = account.apiSecret;
      passEl.value = account.passphrase ?? '';
      labelEl.value ||= 'demo';
      keyEl.focus();
    });
    return h(
      'div',
      { class: 'demo', id: 'demo-offer' },
      h(
        'p',
        {},
        'This is a development instance: its exchanges are simulated on this machine, so no key you enter here reaches a real exchange. ',
      ),
      use,
    );
  };
  const showExchange = (): void => {
    const info = exchangeInfo(exchangeEl.value);
    fill(
      byId('permission-advice'),
      info
        ? h(
            'div',
            {},
            h('p', {}, h('strong', {}, `Grant read-only access on ${info.name}:`)),
            h('ul', {}, ...info.permission.map((p) => h('li', {}, p))),
          )
        : null,
      demoOffer(exchangeEl.value),
    );
    byId('passphrase-field').hidden = !info?.passphrase;
    passEl.required = Boolean(info?.passphrase);
    if (!info?.passphrase) passEl.value = '';
  };
  exchangeEl.addEventListener('change', showExchange);
  showExchange();

  const clearSecrets = (): void => {
    secretEl.value = '';
    passEl.value = '';
  };
  const showError = (msg: string, focus?: HTMLElement): void => {
    errorEl.textContent = msg;
    errorEl.hidden = false;
    statusEl.textContent = '';
    (focus ?? errorEl).focus?.();
  };
  const setBusy = (b: boolean): void => {
    busy = b;
    for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select'))
      el.disabled = b;
    submit.disabled = b || !panel.state?.verdict.valid;
    submit.setAttribute('aria-busy', String(b));
  };
  const invalid = (el: HTMLElement, msg: string): void => {
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-errormessage', 'form-error');
    showError(msg, el);
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void onSubmit();
  });

  async function onSubmit(): Promise<void> {
    if (busy) return;
    errorEl.hidden = true;
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const info = exchangeInfo(exchangeEl.value);
    const label = labelEl.value.trim();
    const ttl = Number(ttlEl.value);
    if (!info) return invalid(exchangeEl, 'Choose a supported exchange.');
    if (!LABEL.test(label))
      return invalid(labelEl, 'The label must be 1–64 letters, digits, spaces, “_”, “.” or “-”.');
    if (!keyEl.value.trim()) return invalid(keyEl, 'Enter the API key.');
    if (!secretEl.value) return invalid(secretEl, 'Enter the API secret.');
    if (info.passphrase && !passEl.value) return invalid(passEl, 'Enter the API passphrase.');

    setBusy(true);
    let sessionId: string | null = null;
    try {
      statusEl.textContent = 'Checking the enclave again with a fresh nonce…';
      const trust = await panel.verify();
      if (!trust?.verdict.valid) {
        clearSecrets();
        showError('The enclave did not verify just now, so nothing was sent.');
        return;
      }
      statusEl.textContent = 'Encrypting your keys in this browser…';
      const sealed = sealFromForm(info.id, info.passphrase, trust);
      statusEl.textContent = 'Sending the sealed envelope…';
      const session = await client.submitKey(sealed, { exchange: info.id, label, ttl });
      sessionId = session.session_id;
      statusEl.textContent = 'Sealed keys accepted. The enclave is computing your result…';
      await computeResult(sessionId, trust, info.name);
    } catch (e) {
      clearSecrets();
      const { code, retryAfter } = errorCode(e);
      showError(apiMessage(code, retryAfter), code === 'EXCHANGE_AUTH_FAILED' ? keyEl : undefined);
    } finally {
      setBusy(false);
    }
  }

  /** Reads the secrets, clears their inputs, seals. The plaintext lives only inside this call. */
  function sealFromForm(
    exchange: string,
    hasPassphrase: boolean,
    trust: TrustState,
  ): ReturnType<typeof CryptoHelper.encryptCredentials> {
    const creds = {
      exchange,
      apiKey: keyEl.value.trim(),
      apiSecret: secretEl.value,
      ...(hasPassphrase && { passphrase: passEl.value }),
    };
    clearSecrets();
    try {
      return CryptoHelper.encryptCredentials(creds, trust.attestation.enclave_pubkey);
    } finally {
      creds.apiSecret = '';
      if ('passphrase' in creds) creds.passphrase = '';
    }
  }

  /** Asks the enclave for the signed result, showing progress; on failure offers retry or purge. */
  async function computeResult(sessionId: string, trust: TrustState, exchangeName: string) {
    resultEl.hidden = false;
    const started = Date.now();
    const elapsed = h('span', { class: 'elapsed', 'aria-hidden': 'true' }, '0 s');
    fill(
      resultEl,
      h('h2', { id: 'result-title', tabindex: '-1' }, 'Your signed result'),
      h(
        'p',
        { class: 'progress', role: 'status', id: 'result-progress' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        `The enclave is downloading your trade history from ${exchangeName} and computing your metrics. This can take a minute. `,
        elapsed,
      ),
      h('p', { class: 'progress-detail', id: 'result-progress-detail', 'aria-live': 'polite' }),
    );
    const detail = byId('result-progress-detail');
    const timer = setInterval(() => {
      elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`;
    }, 1000);
    let res: Result;
    try {
      // A job: the page polls the job endpoint and shows the enclave's non-sensitive progress.
      res = (await client.requestAggregatesJob(sessionId, {
        daily: true,
        onProgress: (p) => (detail.textContent = formatProgress(p)),
      })) as Result;
    } catch (e) {
      clearInterval(timer);
      const { code, retryAfter } = errorCode(e);
      if (code === 'EXCHANGE_AUTH_FAILED') {
        // The keys are useless: purge the sealed copy now instead of waiting for the TTL.
        await client.revoke(sessionId).catch(() => undefined);
        resultEl.hidden = true;
        throw new ApiCallError(code, 'exchange rejected the keys', 422);
      }
      renderFailure(sessionId, trust, exchangeName, apiMessage(code, retryAfter));
      statusEl.textContent = '';
      return;
    } finally {
      clearInterval(timer);
    }
    const verdict = await CryptoHelper.verifyAggregates(res, {
      attestation: trust.attestation,
      expectedImageHash: trust.expectedImageHash,
      ...(trust.trustedRoots && { trustedRoots: trust.trustedRoots }),
    });
    statusEl.textContent = 'Done: your result is below.';
    renderResult(sessionId, trust, res, verdict);
  }

  function renderFailure(sessionId: string, trust: TrustState, exchangeName: string, msg: string) {
    const retry = h('button', { type: 'button', id: 'retry' }, 'Try again');
    const purge = h(
      'button',
      { type: 'button', id: 'purge', class: 'secondary' },
      'Delete my sealed keys',
    );
    const status = h('p', { role: 'status', id: 'purge-status' });
    retry.addEventListener('click', () => {
      setBusy(true);
      computeResult(sessionId, trust, exchangeName)
        .catch((e: unknown) => showError(apiMessage(errorCode(e).code), keyEl))
        .finally(() => setBusy(false));
    });
    purge.addEventListener('click', async () => {
      purge.disabled = true;
      try {
        await client.revoke(sessionId);
        status.textContent = 'Your sealed keys were deleted from the service.';
        retry.disabled = true;
      } catch (e) {
        status.textContent = apiMessage(errorCode(e).code);
        purge.disabled = false;
      }
    });
    fill(
      resultEl,
      h('h2', { id: 'result-title', tabindex: '-1' }, 'Your signed result'),
      h('p', { class: 'verdict bad', role: 'alert' }, `No result yet. ${msg}`),
      h(
        'p',
        {},
        'Your sealed keys stay on the service until their lifetime ends. Try again, or delete them now.',
      ),
      h('div', { class: 'actions' }, retry, purge),
      status,
    );
  }

  function renderResult(
    sessionId: string,
    trust: TrustState,
    res: Result,
    verdict: Awaited<ReturnType<typeof CryptoHelper.verifyAggregates>>,
  ) {
    const p = res.aggregates_signed.payload;
    const shareUrl = `${location.origin}/r/${res.leaf_index}`;
    const badgeUrl = `${location.origin}/r/${res.leaf_index}/badge.svg`;
    const who = [p['exchange'], p['label']].filter((x) => typeof x === 'string').join(' · ');

    const download = h('button', { type: 'button', id: 'download' }, 'Download signed JSON');
    download.addEventListener('click', () => {
      // What `perf-aggregator verify <file>` takes: the request_aggregates answer plus the quote.
      const body = `${JSON.stringify({ ...res, attestation: trust.attestation }, null, 2)}\n`;
      const url = URL.createObjectURL(new Blob([body], { type: 'application/json' }));
      const a = h('a', { href: url, download: `perf-aggregator-result-${res.leaf_index}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });

    const shareInput = h('input', {
      id: 'share-link',
      type: 'text',
      readonly: true,
      value: shareUrl,
      class: 'mono',
    });
    const copyStatus = h('p', { role: 'status', id: 'copy-status', class: 'status' });
    const copy = h('button', { type: 'button', id: 'copy-link' }, 'Copy share link');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(shareUrl);
        copyStatus.textContent = 'Share link copied.';
      } catch {
        shareInput.select();
        copyStatus.textContent = 'Copying is not allowed here: the link is selected, press Ctrl+C.';
      }
    });

    const revoke = h('button', { type: 'button', id: 'revoke', class: 'danger' }, 'Revoke…');
    const confirmBox = h(
      'div',
      {
        class: 'confirm',
        id: 'revoke-confirm',
        hidden: true,
        role: 'group',
        'aria-labelledby': 'revoke-q',
      },
      h(
        'p',
        { id: 'revoke-q' },
        'Revoke this result? Your sealed keys, this result and its signature are purged from the service. ' +
          'The public log keeps only the entry’s hash, shown as “revoked by the owner”. This cannot be undone.',
      ),
    );
    const yes = h('button', { type: 'button', id: 'revoke-yes', class: 'danger' }, 'Yes, revoke');
    const no = h('button', { type: 'button', id: 'revoke-no', class: 'secondary' }, 'Cancel');
    confirmBox.append(h('div', { class: 'actions' }, yes, no));
    const revokeStatus = h('p', {
      role: 'status',
      id: 'revoke-status',
      class: 'status',
      tabindex: '-1',
    });
    revoke.addEventListener('click', () => {
      confirmBox.hidden = false;
      no.focus();
    });
    no.addEventListener('click', () => {
      confirmBox.hidden = true;
      revoke.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      revokeStatus.textContent = 'Revoking…';
      try {
        await client.revoke(sessionId);
        confirmBox.hidden = true;
        revoke.disabled = true;
        revokeStatus.textContent =
          'Revoked. Your sealed keys and this result were purged; the shared page now shows “revoked by the owner”.';
        const v = byId('result-verdict');
        v.className = 'verdict muted';
        v.textContent =
          'Revoked: this result was purged from the service. A downloaded copy still verifies offline.';
        revokeStatus.focus();
      } catch (e) {
        const { code, retryAfter } = errorCode(e);
        revokeStatus.textContent = `Could not revoke. ${apiMessage(code, retryAfter)}`;
        yes.disabled = false;
      }
    });

    fill(
      resultEl,
      h('h2', { id: 'result-title', tabindex: '-1' }, 'Your signed result'),
      h(
        'p',
        { class: `verdict ${verdict.valid ? 'ok' : 'bad'}`, id: 'result-verdict', role: 'status' },
        verdict.valid
          ? 'Verified in this browser: signed by the attested enclave and included in the public log.'
          : 'This result does not verify in this browser. Do not share it.',
      ),
      h('p', { class: 'headline' }, who ? `${who} — ` : '', headline(p)),
      equityCharts(p),
      metricsTable(p, 'Signed metrics'),
      h('h3', {}, 'Verification'),
      checksList(verdict.checks, RESULT_CHECKS, 'Result checks'),
      h('h3', {}, 'Share and keep'),
      h('div', { class: 'field' }, h('label', { for: 'share-link' }, 'Share link'), shareInput),
      h('div', { class: 'actions' }, download, copy, revoke),
      copyStatus,
      confirmBox,
      revokeStatus,
      h(
        'figure',
        { class: 'badge' },
        h('img', { src: badgeUrl, alt: `Badge: ${headline(p)}`, height: '20' }),
        h(
          'figcaption',
          {},
          'Badge for profiles and forums (Markdown): ',
          h('code', { class: 'wrap' }, `[![perf-aggregator](${badgeUrl})](${shareUrl})`),
        ),
      ),
      h('p', {}, h('a', { href: `/r/${res.leaf_index}` }, 'Open the public page of this result')),
    );
    byId('result-title').focus();
  }

  await panel.start();
}

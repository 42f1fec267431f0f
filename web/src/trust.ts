/**
 * The attestation panel every page shows (protocol §2): fetch a quote with a fresh nonce, verify it
 * in this browser with the SDK, and show each check by name. The expected image hash comes from the
 * release manifest served with the page and can be replaced by one pasted from the release notes.
 *
 * Trust is never widened silently: by default only the AWS Nitro root (built into the SDK) is
 * trusted. A development service's root is fetched from the server and trusted only after the
 * visitor ticks a visible checkbox, whose state is kept in memory only.
 */
import type { ApiClient } from '../../src/client/api-client.js';
import {
  CryptoHelper,
  type Attestation,
  type AttestationCheckResult,
} from '../../src/client/crypto-helper.js';
import { pemToDer } from '../../src/attestation/pem.js';
import { toHex } from '../../src/common/bytes.js';
import { webPlatform } from '../../src/platform/web.js';
import { byId, fill, freshNonce, h } from './dom.js';
import { apiMessage, ATTESTATION_CHECKS, checkLabel, CHECK_CODES } from './messages.js';
import { errorCode } from './net.js';

export interface TrustState {
  attestation: Attestation;
  expectedImageHash: string;
  /** PEM roots passed to the verifier; undefined means the SDK default (AWS Nitro root G1 only). */
  trustedRoots: string[] | undefined;
  verdict: AttestationCheckResult;
  devRootTrusted: boolean;
}

interface Manifest {
  version?: string;
  image_hash?: string;
}

type Check = { name: string; ok: boolean; code?: string; skipped?: true };

/** A list of named checks: each row says passed/failed/not run in words, not only in colour. */
export function checksList(
  checks: Check[],
  labels: Record<string, string>,
  ariaLabel: string,
): HTMLUListElement {
  return h(
    'ul',
    { class: 'checks', 'aria-label': ariaLabel },
    ...checks.map((c) => {
      const state = c.ok ? 'passed' : c.skipped ? 'not run' : 'failed';
      const why = !c.ok && !c.skipped && c.code ? ` — ${CHECK_CODES[c.code] ?? c.code}` : '';
      return h(
        'li',
        { class: c.ok ? 'ok' : c.skipped ? 'skip' : 'bad', 'data-check': c.name },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, c.ok ? '✓' : c.skipped ? '–' : '✗'),
        h('span', { class: 'label' }, checkLabel(labels, c.name)),
        h('span', { class: 'state' }, `${state}${why}`),
        h('code', { class: 'name' }, c.name),
      );
    }),
  );
}

export class TrustPanel {
  state: TrustState | null = null;
  private manifest: Manifest = {};
  private devRootPem: string | null = null;
  private lastQuote: Attestation | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly root: HTMLElement,
    private readonly api: ApiClient,
    private readonly onChange: (s: TrustState | null) => void,
  ) {}

  async start(): Promise<void> {
    try {
      const res = await fetch('/release.json', { cache: 'no-cache' });
      if (res.ok) this.manifest = (await res.json()) as Manifest;
    } catch {
      this.manifest = {};
    }
    this.render();
    await this.verify();
  }

  private render(): void {
    const expected = h('input', {
      id: 'expected-hash',
      class: 'mono',
      type: 'text',
      inputmode: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      autocapitalize: 'off',
      'aria-describedby': 'expected-hash-source',
      value: typeof this.manifest.image_hash === 'string' ? this.manifest.image_hash : '',
    });
    expected.addEventListener('change', () => {
      byId('expected-hash-source').textContent = 'Pasted by you.';
      void this.verify();
    });
    const again = h(
      'button',
      { type: 'button', id: 'verify-again', class: 'secondary' },
      'Verify again',
    );
    again.addEventListener('click', () => void this.verify());
    fill(
      this.root,
      h('h2', { id: 'trust-title' }, 'Verify the enclave'),
      h('p', { id: 'trust-verdict', class: 'verdict pending', role: 'status' }, 'Checking…'),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'expected-hash' }, 'Expected image hash (PCR0)'),
        expected,
        h(
          'p',
          { class: 'hint', id: 'expected-hash-source' },
          this.manifest.image_hash
            ? `From the release manifest served with this page${this.manifest.version ? ` (version ${this.manifest.version})` : ''}. Paste the hash published for the release to compare.`
            : 'No release manifest was found: paste the image hash published for the release.',
        ),
      ),
      h('div', { id: 'dev-root-box' }),
      h('div', { id: 'trust-checks' }),
      h('details', { id: 'trust-details' }, h('summary', {}, 'Quote details')),
      again,
    );
  }

  /** Fetches a fresh quote (new nonce) and verifies it. Calls run one after another, so a run
   * started after a change (a ticked box, a pasted hash) always sees that change. */
  verify(): Promise<TrustState | null> {
    const next = this.queue.then(
      () => this.run(),
      () => this.run(),
    );
    this.queue = next;
    return next;
  }

  private async run(): Promise<TrustState | null> {
    const verdictEl = byId('trust-verdict');
    verdictEl.className = 'verdict pending';
    verdictEl.textContent = 'Fetching a quote with a fresh nonce and verifying it in this browser…';
    const expectedImageHash = byId<HTMLInputElement>('expected-hash').value.trim().toLowerCase();
    const nonce = freshNonce();
    let attestation: Attestation;
    try {
      attestation = await this.api.quote(nonce);
    } catch (e) {
      const { code, retryAfter } = errorCode(e);
      this.set(null);
      verdictEl.className = 'verdict bad';
      verdictEl.textContent = `Could not get a quote from the enclave. ${apiMessage(code, retryAfter)}`;
      return null;
    }
    this.lastQuote = attestation;
    this.renderDevBox(attestation);
    const devRootTrusted =
      attestation.format === 'dev' &&
      this.devRootPem !== null &&
      byId<HTMLInputElement>('trust-dev-root').checked;
    const trustedRoots = devRootTrusted ? [this.devRootPem!] : undefined;
    const verdict = await CryptoHelper.verifyAttestation(attestation, expectedImageHash, {
      nonce,
      now: Date.now(),
      ...(trustedRoots && { trustedRoots }),
    });
    const state: TrustState = {
      attestation,
      expectedImageHash,
      trustedRoots,
      verdict,
      devRootTrusted,
    };
    this.renderVerdict(state);
    this.set(state);
    return state;
  }

  private set(s: TrustState | null): void {
    this.state = s;
    this.onChange(s);
  }

  private renderDevBox(a: Attestation): void {
    const box = byId('dev-root-box');
    if (a.format !== 'dev') {
      box.replaceChildren();
      return;
    }
    if (box.querySelector('#trust-dev-root')) return;
    const cb = h('input', { type: 'checkbox', id: 'trust-dev-root' });
    cb.addEventListener('change', () => void this.onDevToggle(cb));
    fill(
      box,
      h(
        'div',
        { class: 'dev-notice', role: 'note', 'aria-labelledby': 'dev-notice-title' },
        h('p', { id: 'dev-notice-title' }, h('strong', {}, 'This is a development enclave.')),
        h(
          'p',
          {},
          'Its quote is signed by a development root CA that this server generated for itself, not by AWS. ' +
            'It proves the format of the attestation, not its security. Trust that root only to try the service.',
        ),
        h(
          'div',
          { class: 'check-row' },
          cb,
          h(
            'label',
            { for: 'trust-dev-root' },
            'Trust the development root fetched from this server',
          ),
        ),
        h('p', { class: 'hint mono wrap', id: 'dev-root-fingerprint' }),
      ),
    );
  }

  private async onDevToggle(cb: HTMLInputElement): Promise<void> {
    const fp = byId('dev-root-fingerprint');
    if (cb.checked && this.devRootPem === null) {
      try {
        const pem = await this.api.devRoot();
        fp.textContent = `Root SHA-256 fingerprint: ${toHex(webPlatform.sha256(pemToDer(pem)))} (compare with DATA_DIR/dev-root/root.pem on the server)`;
        this.devRootPem = pem;
      } catch (e) {
        cb.checked = false;
        fp.textContent = `Could not fetch the development root. ${apiMessage(errorCode(e).code)}`;
        return;
      }
    }
    if (!cb.checked) fp.textContent = '';
    else if (this.devRootPem)
      fp.textContent = `Trusting the development root with SHA-256 fingerprint ${toHex(webPlatform.sha256(pemToDer(this.devRootPem)))} (compare with DATA_DIR/dev-root/root.pem on the server).`;
    await this.verify();
  }

  private renderVerdict(s: TrustState): void {
    const verdictEl = byId('trust-verdict');
    const { verdict, attestation } = s;
    const rootFailed = verdict.checks.some((c) => c.name === 'root' && !c.ok && !c.skipped);
    verdictEl.className = `verdict ${verdict.valid ? 'ok' : 'bad'}`;
    if (verdict.valid)
      verdictEl.textContent = s.devRootTrusted
        ? 'Verified in this browser, under the development root you chose to trust.'
        : 'Verified in this browser: this is the expected enclave image, under the AWS Nitro root.';
    else if (rootFailed && attestation.format === 'dev' && !s.devRootTrusted)
      verdictEl.textContent =
        'Not verified: the quote is not signed under a root you trust. This server runs a development enclave; see below.';
    else verdictEl.textContent = 'Does not verify: do not send keys to this enclave.';
    const passed = verdict.checks.filter((c) => c.ok).length;
    fill(
      byId('trust-checks'),
      h(
        'details',
        { open: !verdict.valid, id: 'trust-checks-details' },
        h('summary', {}, `${passed} of ${verdict.checks.length} attestation checks passed`),
        checksList(verdict.checks, ATTESTATION_CHECKS, 'Attestation checks'),
      ),
    );
    const details = byId('trust-details');
    const row = (k: string, v: string) =>
      h('div', {}, h('dt', {}, k), h('dd', { class: 'mono wrap' }, v));
    const doc = verdict.document;
    fill(
      details,
      h('summary', {}, 'Quote details'),
      h(
        'dl',
        {},
        row('Format', attestation.format),
        row('Reported image hash', attestation.image_hash),
        row('Expected image hash', s.expectedImageHash || '(none)'),
        row('Encryption key (X25519)', attestation.enclave_pubkey),
        row('Signing key (Ed25519)', attestation.signing_pubkey),
        row(
          'Trusted root',
          s.devRootTrusted ? 'development root from this server' : 'AWS Nitro Enclaves root G1',
        ),
        doc ? row('Issued at', new Date(doc.timestamp).toISOString()) : null,
      ),
    );
  }

  /** The quote last fetched (verified or not): what a failed verdict is about. */
  get quote(): Attestation | null {
    return this.lastQuote;
  }
}

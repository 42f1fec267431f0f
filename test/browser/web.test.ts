/**
 * The web client end to end in a real browser: Debian's chromium driven by playwright-core, against
 * real processes (simulator, host with its supervised enclave) and a small tampering proxy.
 *
 *   connect → verify → submit → result → share link in a fresh context → verified → account
 *   history → (tampered entry: "does not verify"; tampered quote: failed check, submit blocked)
 *   → revoke → shared page shows revoked → canary → an exchange error keeps the form but the secret.
 *
 * Skips (with a message) when /usr/bin/chromium is missing; `.ci/run` installs it. Never lets a
 * tool download a browser. Screenshots go to test/artifacts/ (gitignored).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, startProcess, startSimProcess, type Proc } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test/artifacts');
const CANARY_SECRET = `canary-web-secret-${randomBytes(12).toString('hex')}`;
const CANARY_KEY = `canary-web-key-${randomBytes(12).toString('hex')}`;
const run = promisify(execFile);

/** The cbor-x feature probe `new Function("")` at load: the CSP refuses it, as it should. */
const CBOR_PROBE = /TrustedScript|Function constructor does not accept/;

interface Sent {
  url: string;
  body: string;
}

describe(
  'web client in chromium',
  {
    skip: existsSync(CHROMIUM)
      ? false
      : `${CHROMIUM} is not installed: skipping the browser tests (apt-get install -y chromium)`,
    timeout: 150_000,
  },
  () => {
    let sim: Proc & { url: string };
    let host: Proc;
    let browser: Browser;
    let proxy: http.Server;
    let base: string;
    let proxyBase: string;
    let dataDir: string;
    const tamper = { quote: false, entry: false };
    const sent: Sent[] = [];
    const consoleErrors: string[] = [];
    const contexts: BrowserContext[] = [];
    let owner: Page;
    let shareUrl = '';
    let leafIndex = -1;
    let leafHash = '';
    let account = '';

    async function newPage(
      viewport = { width: 1000, height: 900 },
      permissions: string[] = [],
    ): Promise<Page> {
      const ctx = await browser.newContext({ viewport, permissions });
      contexts.push(ctx);
      ctx.on('request', (r) => sent.push({ url: r.url(), body: r.postData() ?? '' }));
      const page = await ctx.newPage();
      page.on('console', (m) => {
        // API error statuses are logged by the browser as "Failed to load resource"; the pages'
        // own files are checked through their responses below instead.
        if (
          m.type() === 'error' &&
          !CBOR_PROBE.test(m.text()) &&
          !/^Failed to load resource/.test(m.text())
        )
          consoleErrors.push(m.text());
      });
      page.on('response', (r) => {
        const path = new URL(r.url()).pathname;
        if (
          !path.startsWith('/api/') &&
          !path.startsWith('/enclave/') &&
          !path.startsWith('/attestation/') &&
          r.status() >= 400
        )
          consoleErrors.push(`${r.status()} ${path}`);
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      return page;
    }
    /** A full-page screenshot, or of one element (`sel`) so details stay legible. */
    const shot = (page: Page, name: string, sel?: string) =>
      sel
        ? page.locator(sel).screenshot({ path: join(ARTIFACTS, `${name}.png`) })
        : page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    const text = async (page: Page, sel: string) => (await page.textContent(sel))?.trim() ?? '';
    const checks = (page: Page, scope: string) =>
      page.$$eval(`${scope} ul.checks li`, (lis) =>
        lis.map((li) => ({ name: li.getAttribute('data-check'), cls: li.className })),
      );

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      sim = await startSimProcess();
      const reg = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiKey: CANARY_KEY,
          apiSecret: CANARY_SECRET,
          fills: 40,
          uid: 4242,
        }),
      });
      assert.equal(reg.status, 201);
      dataDir = mkdtempSync(join(tmpdir(), 'pa-web-'));
      const port = await freePort();
      host = await startProcess(
        ['dist/api/main.js'],
        {
          DATA_DIR: dataDir,
          ENCLAVE_PORT: String(port),
          EXCHANGE_BASE_URL_BINANCE: sim.url,
          RATE_LIMIT_MAX: '100000',
          LOG_LEVEL: 'debug',
        },
        /"event":"enclave_ready"/,
        60_000,
      );
      base = `http://127.0.0.1:${port}`;

      // A tampering proxy in front of the host: same pages, altered answers when asked to.
      proxy = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          try {
            const body = Buffer.concat(chunks);
            const up = await fetch(base + req.url, {
              method: req.method,
              headers: {
                ...(req.headers['content-type'] && { 'content-type': req.headers['content-type'] }),
                ...(req.headers['accept'] && { accept: req.headers['accept'] }),
              },
              ...(body.length > 0 && { body }),
              redirect: 'manual',
            });
            let out = Buffer.from(await up.arrayBuffer());
            if (tamper.quote && req.url?.startsWith('/attestation/quote') && up.ok) {
              const q = JSON.parse(out.toString('utf8'));
              const doc = Buffer.from(q.quote, 'base64');
              doc[doc.length - 1]! ^= 0x01; // a bit of the COSE signature
              q.quote = doc.toString('base64');
              out = Buffer.from(JSON.stringify(q));
            }
            if (tamper.entry && req.url?.startsWith('/api/log/entries/') && up.ok) {
              const e = JSON.parse(out.toString('utf8'));
              if (e.aggregates_signed) e.aggregates_signed.payload.pnl += 1_000_000;
              out = Buffer.from(JSON.stringify(e));
            }
            const headers: Record<string, string> = {};
            up.headers.forEach((v, k) => {
              if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k))
                headers[k] = v;
            });
            res.writeHead(up.status, headers).end(out);
          } catch {
            res.writeHead(502).end();
          }
        });
      });
      await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
      proxyBase = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      await new Promise((ok) => (proxy ? proxy.close(ok) : ok(undefined)));
      await host?.stop();
      await sim?.stop();
    });

    it('serves the pages with a strict CSP, and leaves the JSON API headers alone', async () => {
      const page = await fetch(`${base}/`);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /form-action 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      const html = await page.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script');
      assert.doesNotMatch(html, /\son[a-z]+=|style=/i, 'no inline handlers or styles');
      assert.doesNotMatch(
        html,
        /<(input|select|textarea)[^>]*\bname=/,
        'no named inputs: a native submit carries nothing',
      );
      assert.match(html, /id="api-secret"[^>]*autocomplete="current-password"/s);
      for (const path of ['/attestation/quote', '/api/log/checkpoint', '/nope']) {
        const r = await fetch(base + path);
        assert.equal(r.headers.get('content-security-policy'), null, path);
        assert.equal(r.headers.get('cross-origin-opener-policy'), null, path);
      }
      const badge = await fetch(`${base}/r/999/badge.svg`);
      assert.equal(badge.status, 404);
      assert.equal(badge.headers.get('cross-origin-resource-policy'), 'cross-origin');
    });

    it('connect → verify (dev root trusted explicitly) → submit → signed, verified result', async () => {
      owner = await newPage(undefined, ['clipboard-read', 'clipboard-write']);
      await owner.goto(`${base}/`);
      await owner.waitForSelector('#trust-verdict.bad');
      assert.match(await text(owner, '#trust-verdict'), /not signed under a root you trust/);
      assert.equal(await owner.isDisabled('#submit'), true, 'no submit before verification');
      assert.equal(await owner.isChecked('#trust-dev-root'), false, 'never trusted silently');
      await shot(owner, '01-connect-untrusted');

      await owner.check('#trust-dev-root');
      await owner.waitForSelector('#trust-verdict.ok');
      assert.match(await text(owner, '#dev-root-fingerprint'), /[0-9a-f]{64}/);
      const att = await checks(owner, '#trust');
      for (const n of ['root', 'chain', 'pcrs', 'public_key', 'user_data', 'freshness'])
        assert.ok(att.find((c) => c.name === n)?.cls === 'ok', n);
      assert.equal(await owner.isEnabled('#submit'), true);
      await shot(owner, '02-connect-verified');

      // Keyboard only: type into the fields, Tab between them, Enter submits.
      await owner.fill('#label', 'browser e2e');
      await owner.focus('#api-key');
      await owner.keyboard.type(CANARY_KEY);
      await owner.keyboard.press('Tab');
      assert.equal(await owner.evaluate('document.activeElement.id'), 'api-secret');
      await owner.keyboard.type(CANARY_SECRET);
      await owner.keyboard.press('Enter');
      await owner.waitForSelector('#result-verdict.ok', { timeout: 60_000 });
      await shot(owner, '03-result', '#result');

      assert.equal(await owner.inputValue('#api-secret'), '', 'the secret is cleared');
      assert.equal(await owner.inputValue('#api-key'), CANARY_KEY);
      assert.equal(await owner.inputValue('#label'), 'browser e2e');
      const res = await checks(owner, '#result');
      assert.deepEqual(
        res.map((c) => c.name),
        ['attestation', 'key_binding', 'signature', 'image_hash', 'inclusion', 'checkpoint'],
      );
      assert.ok(res.every((c) => c.cls === 'ok'));
      assert.match(await text(owner, '#result table.metrics'), /Profit and loss/);
      // The equity curve and drawdown chart, drawn from the signed daily series.
      await owner.waitForSelector('#charts canvas');
      assert.equal(await owner.locator('#charts figure canvas').count(), 2);
      assert.match(
        (await owner.getAttribute('#charts .chart >> nth=1', 'aria-label')) ?? '',
        /Deepest drawdown [-−]?[\d.,]+ % on \d{4}-\d{2}-\d{2}/,
      );

      // Download: exactly what `perf-aggregator verify` takes.
      const [download] = await Promise.all([
        owner.waitForEvent('download'),
        owner.click('#download'),
      ]);
      const file = join(dataDir, 'downloaded.json');
      await download.saveAs(file);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      assert.ok(saved.attestation && saved.aggregates_signed && saved.checkpoint);
      const { stdout } = await run(process.execPath, [
        'bin/perf-aggregator.mjs',
        'verify',
        file,
        '--root',
        join(dataDir, 'dev-root', 'root.pem'),
      ]);
      assert.equal(JSON.parse(stdout).valid, true, stdout);
      leafIndex = saved.leaf_index;
      account = saved.aggregates_signed.payload.account;

      await owner.click('#copy-link');
      await owner.waitForSelector('#copy-status:has-text("copied")');
      shareUrl = String(await owner.evaluate('navigator.clipboard.readText()'));
      assert.equal(shareUrl, `${base}/r/${leafIndex}`);
      assert.equal(await owner.inputValue('#share-link'), shareUrl);
    });

    it('the share link verifies in a second, fresh browser context; the account lists it', async () => {
      const page = await newPage();
      await page.goto(shareUrl);
      await page.waitForSelector('#shared-verdict.warn');
      await shot(page, '04-shared-untrusted');
      await page.check('#trust-dev-root');
      await page.waitForSelector('#shared-verdict.ok');
      assert.match(await text(page, '#shared-verdict'), /Verified in your browser/);
      await page.waitForSelector('#charts canvas');
      assert.equal(await page.locator('#charts figure canvas').count(), 2);
      const res = await checks(page, '#shared');
      assert.ok(res.length >= 7 && res.every((c) => c.cls === 'ok'), JSON.stringify(res));
      await page.waitForSelector('#account-line a');
      assert.match(await text(page, '#account-line'), /This account has 1 result on the log/);
      await shot(page, '05-shared-verified', '#shared');

      await page.click('#account-line a');
      await page.waitForSelector('#account-verdict.warn');
      await page.check('#trust-dev-root');
      await page.waitForSelector('#account-verdict.ok');
      assert.equal(await page.locator('ol.entries li.ok').count(), 1);
      await shot(page, '06-account', '#account');

      const badge = await (await fetch(`${base}/r/${leafIndex}/badge.svg`)).text();
      assert.match(badge, /PnL [+−][\d,]+\.\d\d USD/);
      assert.match(badge, /binance browser e2e/);
    });

    it('a tampered shared entry (through a proxy) says it does not verify', async () => {
      tamper.entry = true;
      try {
        const page = await newPage();
        await page.goto(`${proxyBase}/r/${leafIndex}`);
        await page.check('#trust-dev-root');
        await page.waitForSelector('#shared-verdict.bad');
        assert.match(await text(page, '#shared-verdict'), /does not verify/);
        const res = await checks(page, '#shared');
        assert.equal(res.find((c) => c.name === 'signature')?.cls, 'bad');
        assert.equal(res.find((c) => c.name === 'attestation')?.cls, 'ok');
        await shot(page, '07-shared-tampered', '#shared');
      } finally {
        tamper.entry = false;
      }
    });

    it('a tampered quote (through a proxy) fails a named check and blocks submit', async () => {
      tamper.quote = true;
      try {
        const page = await newPage();
        await page.goto(`${proxyBase}/`);
        await page.check('#trust-dev-root');
        await page.waitForSelector('#trust-verdict.bad:has-text("Does not verify")');
        const att = await checks(page, '#trust');
        assert.equal(att.find((c) => c.name === 'signature')?.cls, 'bad');
        assert.equal(await page.isDisabled('#submit'), true);
        // Even a forced submit (Enter in a field) sends nothing.
        await page.fill('#api-key', 'k');
        await page.fill('#api-secret', 's');
        await page.press('#api-secret', 'Enter');
        await page.waitForTimeout(300);
        assert.ok(!sent.some((s) => s.url.startsWith(proxyBase) && s.url.includes('/enclave/')));
        await shot(page, '08-connect-tampered-quote', '#trust');
      } finally {
        tamper.quote = false;
      }
    });

    it('revoke → the shared page shows "revoked by the owner" with the leaf hash', async () => {
      await owner.click('#revoke');
      await owner.waitForSelector('#revoke-confirm:not([hidden])');
      await owner.click('#revoke-yes');
      await owner.waitForSelector('#revoke-status:has-text("Revoked.")');
      await shot(owner, '09-result-revoked', '#result');

      const page = await newPage();
      await page.goto(shareUrl);
      await page.check('#trust-dev-root');
      await page.waitForSelector('#shared-verdict.muted');
      assert.match(await text(page, '#shared-verdict'), /Revoked by the owner/);
      const entry = (await (await fetch(`${base}/api/log/entries/${leafIndex}`)).json()) as {
        leaf_hash: string;
      };
      leafHash = entry.leaf_hash;
      assert.equal(await text(page, '#leaf-hash'), leafHash);
      await shot(page, '10-shared-revoked', '#shared');
      await page.goto(`${base}/a/${account}`);
      await page.check('#trust-dev-root');
      await page.waitForSelector('#account-verdict.ok');
      assert.equal(await page.locator('ol.entries li.revoked').count(), 1);
      assert.match(
        await text(page, '#account-body'),
        /1 result on the log .* 1 revoked by the owner/s,
      );
      await shot(page, '12-account-revoked', '#account');
      assert.match(await (await fetch(`${base}/r/${leafIndex}/badge.svg`)).text(), /revoked/);
    });

    it('an exchange error maps to a human message and keeps the form, but not the secret (phone width)', async () => {
      const page = await newPage({ width: 375, height: 812 });
      await page.goto(`${base}/`);
      await page.check('#trust-dev-root');
      await page.waitForSelector('#trust-verdict.ok');
      await page.fill('#label', 'wrong key');
      await page.selectOption('#ttl', '3600');
      await page.fill('#api-key', 'demo-binance-key');
      await page.fill('#api-secret', `${CANARY_SECRET}-wrong`);
      await page.click('#submit');
      await page.waitForSelector('#form-error:not([hidden])', { timeout: 60_000 });
      assert.match(await text(page, '#form-error'), /exchange rejected these API keys/);
      assert.equal(await page.inputValue('#api-secret'), '');
      assert.equal(await page.inputValue('#api-key'), 'demo-binance-key');
      assert.equal(await page.inputValue('#label'), 'wrong key');
      assert.equal(await page.inputValue('#ttl'), '3600');
      const overflow = await page.evaluate(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.equal(overflow, 0, 'no horizontal scrolling at phone width');
      await shot(page, '11-connect-error-phone', '#connect');
    });

    it('canary: the secret is in no storage, no request URL or body, no server log line', async () => {
      assert.ok(
        sent.some((s) => s.url.endsWith('/enclave/submit_key') && s.body.includes('ciphertext')),
        'positive control: request bodies were captured',
      );
      for (const s of sent) {
        for (const needle of [CANARY_SECRET, CANARY_KEY]) {
          assert.ok(!s.url.includes(needle), `request URL carries a credential: ${s.url}`);
          assert.ok(!s.body.includes(needle), `request body carries a credential: ${s.url}`);
        }
      }
      for (const ctx of contexts) {
        const state = JSON.stringify(await ctx.storageState({ indexedDB: true }));
        assert.ok(!state.includes(CANARY_SECRET) && !state.includes(CANARY_KEY));
        for (const page of ctx.pages()) {
          const stores = String(
            await page.evaluate(
              `(async () => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, idb: (await indexedDB.databases()).map((d) => d.name) }))()`,
            ),
          );
          assert.equal(stores, '{"local":{},"session":{},"idb":[]}', page.url());
        }
      }
      assert.ok(
        host.lines.some((l) => l.includes('enclave_ready')),
        'positive control: logs',
      );
      const leaked = host.lines.filter((l) => l.includes(CANARY_SECRET) || l.includes(CANARY_KEY));
      assert.deepEqual(leaked, [], 'no log line of host or enclave carries a credential');
      assert.deepEqual(consoleErrors, [], 'no CSP violation or script error in any page');
    });
  },
);

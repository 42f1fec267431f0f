/**
 * The newcomer's path in a real browser: `npm start` on the defaults (no exchange configured, so
 * the host runs the bundled simulator), open the page, trust the development root, press "Use the
 * demo account", submit, and get a verified result with its charts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { freePort, startProcess, type Proc } from '../helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(resolve(import.meta.dirname, '../..'), 'test/artifacts');

describe(
  'newcomer: npm start, then the demo account in the browser',
  {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed: skipping`,
    timeout: 120_000,
  },
  () => {
    let host: Proc;
    let browser: Browser;
    let testDb: TestDb | null = null;
    let base: string;

    before(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const port = await freePort();
      const env: Record<string, string> = {
        DATA_DIR: join(mkdtempSync(join(tmpdir(), 'pa-newcomer-')), 'data'),
        ENCLAVE_PORT: String(port),
      };
      if (process.env['DATABASE_URL']) {
        testDb = await openTestDb();
        env['DATABASE_URL'] = testDb.databaseUrl!;
      }
      host = await startProcess(['dist/api/main.js'], env, /"event":"enclave_ready"/);
      base = `http://127.0.0.1:${port}`;
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
      await browser?.close();
      await host?.stop();
      await testDb?.close();
    });

    it('connects the simulator demo account and shows a verified result', async () => {
      const page = await (await browser.newContext()).newPage();
      await page.goto(base);
      await page.check('#trust-dev-root');
      await page.waitForSelector('#trust-verdict.ok');
      await page.waitForSelector('#demo-offer');
      assert.match(
        (await page.textContent('#demo-offer')) ?? '',
        /no key you enter here reaches a real exchange/,
      );
      await page.click('#use-demo');
      assert.notEqual(await page.inputValue('#api-key'), '');
      await page.click('#submit');
      await page.waitForSelector('#result-verdict.ok', { timeout: 90_000 });
      await page.waitForSelector('#charts canvas');
      await page.locator('#result').screenshot({ path: join(ARTIFACTS, '12-newcomer-demo.png') });
      assert.equal(await page.inputValue('#api-secret'), '', 'the secret is cleared');
    });
  },
);

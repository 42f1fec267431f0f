/**
 * Development mode's bundled exchange simulator (`EXCHANGE_SIM`, on by default with TEE_MODE=dev):
 * the host starts dist/sim/main.js on a loopback port, points every exchange that has no explicit
 * `EXCHANGE_BASE_URL_<ID>` at it, and serves its public demo credentials, so `npm start` alone
 * gives a newcomer a working account to connect. Credentials typed into a dev instance therefore
 * reach the simulator, never a real exchange; set EXCHANGE_SIM=false to use real exchanges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LIFELINE_FLAG } from '../runtime/lifeline.js';

export interface DemoExchange {
  url: string;
  apiKey: string;
  apiSecret: string;
  passphrase?: string;
}

export interface DemoSimulator {
  /** exchange id → loopback URL and demo credentials */
  exchanges: Record<string, DemoExchange>;
  stop(): Promise<void>;
}

const ID = /^[a-z0-9]{2,32}$/;

/** Parses the simulator's start-up line; throws on anything unexpected. */
export function parseSimAnnouncement(line: string): Record<string, DemoExchange> {
  const v = JSON.parse(line) as { exchanges?: unknown };
  const ex = v.exchanges;
  if (typeof ex !== 'object' || ex === null || Array.isArray(ex)) throw new Error('no exchanges');
  const out: Record<string, DemoExchange> = {};
  for (const [id, e] of Object.entries(ex as Record<string, Record<string, unknown>>)) {
    const { url, apiKey, apiSecret, passphrase } = e ?? {};
    if (
      !ID.test(id) ||
      typeof url !== 'string' ||
      !/^http:\/\/127\.0\.0\.1:\d+$/.test(url) ||
      typeof apiKey !== 'string' ||
      typeof apiSecret !== 'string' ||
      (passphrase !== undefined && typeof passphrase !== 'string')
    )
      throw new Error(`bad simulator entry for ${id}`);
    out[id] = { url, apiKey, apiSecret, ...(passphrase !== undefined && { passphrase }) };
  }
  return out;
}

/**
 * Starts the simulator bundle and waits (up to `timeoutMs`) for its announcement line. Its stdin
 * is a lifeline (`--exit-with-stdin`): if this host dies without stopping it (SIGKILL, a crash
 * during start-up), the pipe closes and the simulator exits instead of lingering as an orphan.
 * Its stderr goes to `onLog`, never to a descriptor it would hold open.
 */
export function startDemoSimulator(
  bundle: string,
  onLog: (line: string) => void,
  timeoutMs = 15_000,
): Promise<DemoSimulator> {
  const child: ChildProcess = spawn(process.execPath, [bundle, '--port', '0', LIFELINE_FLAG], {
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  createInterface({ input: child.stderr! }).on('line', onLog);
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error('the exchange simulator did not start'));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the exchange simulator exited (${code})`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ exchanges: parseSimAnnouncement(line), stop });
      } catch (e) {
        void stop();
        reject(e as Error);
      }
    });
  });
}

/**
 * `npm run exchange:sim [-- --port 9100 --seed 1]`: runs the Binance simulator and prints one
 * JSON line with its URL, the demo credentials (public, simulator-only) and the env hint for
 * pointing the service at it. Stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DEMO_ACCOUNT, startBinanceSim } from './binance.js';

function intFlag(
  name: string,
  v: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    process.stderr.write(`exchange:sim: --${name} must be an integer in [${min}, ${max}]\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: { port: { type: 'string' }, seed: { type: 'string' } },
  strict: true,
});
const port = intFlag('port', values.port, 9100, 0, 65535);
const seed = intFlag('seed', values.seed, 1, 0, 2 ** 32 - 1);

const sim = await startBinanceSim({ port, seed });
process.stdout.write(
  JSON.stringify({
    url: sim.url,
    apiKey: DEMO_ACCOUNT.apiKey,
    apiSecret: DEMO_ACCOUNT.apiSecret,
    hint: `EXCHANGE_BASE_URL_BINANCE=${sim.url}`,
  }) + '\n',
);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

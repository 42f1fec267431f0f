/**
 * `npm run exchange:sim [-- --port 9100 --seed 1]`: runs the exchange simulators, one port each
 * (Binance spot and USD-M on --port, Bybit + 1, OKX + 2, Kraken + 3, Coinbase + 4; 0 picks free
 * ports), and prints one JSON line: per exchange its URL and demo credentials (public,
 * simulator-only; Coinbase's EC key pair is generated at start), a withdrawal-enabled Binance key
 * the service must refuse, and the env for pointing the service at them. The host reads that line
 * when it starts the simulator itself (`EXCHANGE_SIM`, src/api/demo-sim.ts). Stops cleanly on
 * SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DEMO_ACCOUNT, DEMO_WITHDRAW_ACCOUNT, startBinanceSim } from './binance.js';
import { BYBIT_DEMO_ACCOUNT, startBybitSim } from './bybit.js';
import { startCoinbaseSim } from './coinbase.js';
import { KRAKEN_DEMO_ACCOUNT, startKrakenSim } from './kraken.js';
import { OKX_DEMO_ACCOUNT, startOkxSim } from './okx.js';
import { exitWithParent } from '../runtime/lifeline.js';

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
  options: {
    port: { type: 'string' },
    seed: { type: 'string' },
    // started by the host (src/api/demo-sim.ts): stdin is a pipe whose end means the host is gone
    'exit-with-stdin': { type: 'boolean' },
  },
  strict: true,
});
const port = intFlag('port', values.port, 9100, 0, 65535);
const seed = intFlag('seed', values.seed, 1, 0, 2 ** 32 - 1);

const at = (offset: number): number => (port === 0 ? 0 : port + offset);
const binance = await startBinanceSim({ port, seed });
const bybit = await startBybitSim({ port: at(1), seed });
const okx = await startOkxSim({ port: at(2), seed });
const kraken = await startKrakenSim({ port: at(3), seed });
const coinbase = await startCoinbaseSim({ port: at(4), seed });
const sims = [binance, bybit, okx, kraken, coinbase];

interface Demo {
  url: string;
  apiKey: string;
  apiSecret: string;
  passphrase?: string;
}
const exchanges: Record<string, Demo> = {
  binance: { url: binance.url, apiKey: DEMO_ACCOUNT.apiKey, apiSecret: DEMO_ACCOUNT.apiSecret },
  // one process serves both APIs; the demo key has a USD-M history too
  binanceusdm: { url: binance.url, apiKey: DEMO_ACCOUNT.apiKey, apiSecret: DEMO_ACCOUNT.apiSecret },
  bybit: { url: bybit.url, ...BYBIT_DEMO_ACCOUNT },
  okx: { url: okx.url, ...OKX_DEMO_ACCOUNT },
  kraken: { url: kraken.url, ...KRAKEN_DEMO_ACCOUNT },
  coinbase: { url: coinbase.url, ...coinbase.demo },
};
process.stdout.write(
  JSON.stringify({
    exchanges,
    // a key the service must refuse: it can withdraw
    refused: {
      binance: { apiKey: DEMO_WITHDRAW_ACCOUNT.apiKey, apiSecret: DEMO_WITHDRAW_ACCOUNT.apiSecret },
    },
    env: Object.fromEntries(
      Object.entries(exchanges).map(([id, e]) => [`EXCHANGE_BASE_URL_${id.toUpperCase()}`, e.url]),
    ),
  }) + '\n',
);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  Promise.all(sims.map((s) => s.close())).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
exitWithParent(stop);

/**
 * The Binance simulator for bench/api.ts, as its own process. Same server as `npm run
 * exchange:sim`, but with the per-IP weight limit lifted: every aggregate costs ≈200 weight
 * (exchangeInfo, account, two myTrades pages per symbol) and all bench traffic comes from
 * 127.0.0.1, so Binance's 6 000 weight per minute would cap the run at ≈30 aggregates a minute
 * and measure the simulator's rate limiter instead of the service. Prints one JSON line.
 */
import { DEMO_ACCOUNT, startBinanceSim } from '../../src/sim/binance.js';
import { exitWithParent } from '../../src/runtime/lifeline.js';

const sim = await startBinanceSim({ port: 0, weightLimitPerMinute: 1_000_000_000 });
process.stdout.write(`${JSON.stringify({ url: sim.url, apiKey: DEMO_ACCOUNT.apiKey })}\n`);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
exitWithParent(stop); // started with LIFELINE_FLAG: gone with the benchmark, however it ends

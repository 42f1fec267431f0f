/**
 * Envelope opening alone (protocol §3), three ways, on the same pre-sealed envelopes:
 *   ours-node  openEnvelope(nodePlatform)   what the enclave runs
 *   naive      node:crypto as a typical implementation writes it: the ephemeral key imported from
 *              DER/SPKI with createPublicKey, diffieHellman, hkdfSync, createDecipheriv (the peer)
 *   ours-web   openEnvelope(webPlatform)    @noble, what a browser would run
 *   x25519-only diffieHellman on keys imported beforehand: the floor of any node:crypto version
 * Every envelope is distinct (fresh ephemeral key), so nothing can be cached across opens.
 * Reports wall time and CPU time per open; "per core" is 1 / CPU time, the figure that does not
 * depend on other processes taking the core. Flags: --n (distinct envelopes, 20 000), --rounds
 * (passes over them for the node implementations, 2), --web-n (20 000), --warmup (2 000).
 *
 *   node node_modules/tsx/dist/cli.mjs bench/envelope.ts
 */
import {
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { utf8 } from '../src/common/bytes.js';
import { openEnvelope, sealEnvelope, type Envelope } from '../src/crypto/envelope.js';
import { nodePlatform } from '../src/platform/node.js';
import { webPlatform } from '../src/platform/web.js';
import { stallMeter } from './lib/psi.js';
import { fig, intFlags, report, round, table } from './lib/report.js';

const flags = intFlags({
  n: { def: 20_000, min: 1 },
  rounds: { def: 2, min: 1 },
  'web-n': { def: 20_000, min: 1 },
  warmup: { def: 2_000, min: 0 },
});

// --- the peer, written the way a typical node:crypto implementation would be -------------------
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const INFO = Buffer.from('perf-aggregator/v1/credentials');

function naiveOpen(privateKey: KeyObject, enclavePub: Uint8Array, env: Envelope): Buffer {
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_X25519, env.ephemeralPub]),
    format: 'der',
    type: 'spki',
  });
  const shared = diffieHellman({ privateKey, publicKey });
  if (shared.every((b) => b === 0)) throw new Error('envelope could not be opened');
  const binding = Buffer.concat([env.ephemeralPub, enclavePub]);
  const key = Buffer.from(hkdfSync('sha256', shared, binding, INFO, 32));
  const d = createDecipheriv('aes-256-gcm', key, env.nonce);
  d.setAAD(binding);
  d.setAuthTag(env.tag);
  return Buffer.concat([d.update(env.ciphertext), d.final()]);
}

// --- fixtures -----------------------------------------------------------------------------------
const enclave = nodePlatform.x25519Generate();
const naivePriv = createPrivateKey({
  key: Buffer.concat([PKCS8_X25519, enclave.privateKey]),
  format: 'der',
  type: 'pkcs8',
});
const count = Math.max(flags.n, flags['web-n']);
process.stderr.write(`sealing ${count} envelopes…\n`);
const envelopes: Envelope[] = [];
for (let i = 0; i < count; i++) {
  const creds = {
    exchange: 'binance',
    apiKey: `bench-key-${i}`,
    apiSecret: `bench-secret-${i}-${'s'.repeat(48)}`,
  };
  envelopes.push(sealEnvelope(nodePlatform, enclave.publicKey, utf8(JSON.stringify(creds))));
}

type Open = (env: Envelope, i: number) => unknown;
// The floor: X25519 alone (diffieHellman on keys imported beforehand), what no node:crypto
// implementation can go below. It scales the other figures when the machine is busy.
const floorKeys = envelopes.slice(0, flags.n).map((e) =>
  createPublicKey({
    key: Buffer.concat([SPKI_X25519, e.ephemeralPub]),
    format: 'der',
    type: 'spki',
  }),
);
const impls = {
  'ours-node': (env: Envelope) => openEnvelope(nodePlatform, enclave, env),
  naive: (env: Envelope) => naiveOpen(naivePriv, enclave.publicKey, env),
  'x25519-only': (_env: Envelope, i: number) =>
    diffieHellman({ privateKey: naivePriv, publicKey: floorKeys[i]! }),
  'ours-web': (env: Envelope) => openEnvelope(webPlatform, enclave, env),
} satisfies Record<string, Open>;
type Name = keyof typeof impls;

// Correctness first: every implementation must return the sealed plaintext.
const expected = Buffer.from(
  JSON.stringify({
    exchange: 'binance',
    apiKey: 'bench-key-0',
    apiSecret: `bench-secret-0-${'s'.repeat(48)}`,
  }),
);
for (const name of ['ours-node', 'naive', 'ours-web'] as const) {
  if (!expected.equals(impls[name](envelopes[0]!)))
    throw new Error(`${name} returned the wrong plaintext`);
}

interface Run {
  wallUs: number;
  cpuUs: number;
}
const total: Record<Name, { wall: number; cpu: number; n: number }> = {
  'ours-node': { wall: 0, cpu: 0, n: 0 },
  naive: { wall: 0, cpu: 0, n: 0 },
  'x25519-only': { wall: 0, cpu: 0, n: 0 },
  'ours-web': { wall: 0, cpu: 0, n: 0 },
};

function run(name: Name, from: number, to: number): void {
  const open: Open = impls[name];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = from; i < to; i++) open(envelopes[i]!, i);
  const t = total[name];
  t.wall += performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  t.cpu += (cpu.user + cpu.system) / 1000;
  t.n += to - from;
}
const result = (name: Name): Run => ({
  wallUs: (total[name].wall * 1000) / total[name].n,
  cpuUs: (total[name].cpu * 1000) / total[name].n,
});

for (const name of Object.keys(impls) as Name[])
  for (let i = 0; i < Math.min(flags.warmup, flags.n); i++) impls[name](envelopes[i]!, i);
for (const t of Object.values(total)) Object.assign(t, { wall: 0, cpu: 0, n: 0 });

// The node implementations take turns on chunks of the same envelopes, so a burst of load from
// elsewhere hits them alike; each opens every one of the n envelopes once per round.
const CHUNK = 500;
const stalled = stallMeter();
for (let r = 0; r < flags.rounds; r++) {
  for (let from = 0; from < flags.n; from += CHUNK) {
    const to = Math.min(from + CHUNK, flags.n);
    for (const name of ['ours-node', 'naive', 'x25519-only'] as const) run(name, from, to);
  }
}
const stall = stalled();
process.stderr.write(`opening ${flags['web-n']} envelopes with @noble…\n`);
run('ours-web', 0, flags['web-n']);
const [ours, naive, floor, web] = (['ours-node', 'naive', 'x25519-only', 'ours-web'] as const).map(
  result,
) as [Run, Run, Run, Run];

const row = (label: string, n: number, r: Run) => [
  label,
  n,
  round(r.wallUs),
  round(1e6 / r.wallUs, 0),
  round(r.cpuUs),
  round(1e6 / r.cpuUs, 0),
];
const passes = flags.n * flags.rounds;
table(
  [
    'implementation',
    'opens',
    'µs/open (wall)',
    'opens/s (wall)',
    'µs/open (CPU)',
    'opens/s per core',
  ],
  [
    row('ours-node    openEnvelope(nodePlatform)', passes, ours),
    row('naive        node:crypto, DER/SPKI import', passes, naive),
    row('x25519-only  diffieHellman, keys pre-imported', passes, floor),
    row('ours-web     openEnvelope(webPlatform)', flags['web-n'], web),
  ],
);
process.stdout.write(
  `ours-node: ${round(naive.cpuUs / ours.cpuUs, 2)}× the naive peer's opens per core, ` +
    `${round(ours.cpuUs / floor.cpuUs, 2)}× the cost of X25519 alone ` +
    `(goal: ≥ 12 000 opens/s per core); CPU stall (PSI) during the node rounds: ${round(stall, 0)} %\n`,
);

const figures = (prefix: string, r: Run) => ({
  [`${prefix}_open_us`]: fig(r.wallUs, 'µs'),
  [`${prefix}_open_per_s`]: fig(1e6 / r.wallUs, 'ops/s', 0),
  [`${prefix}_open_cpu_us`]: fig(r.cpuUs, 'µs'),
  [`${prefix}_open_per_core_s`]: fig(1e6 / r.cpuUs, 'ops/s', 0),
});
report(
  'envelope',
  {
    ...figures('node', ours),
    ...figures('web', web),
    ...figures('x25519_only', floor),
    cpu_stall: fig(stall, '%', 0),
  },
  figures('naive', naive),
  {
    node_over_naive: round(naive.cpuUs / ours.cpuUs, 2),
    web_over_naive: round(naive.cpuUs / web.cpuUs, 2),
    node_over_x25519_only_cost: round(ours.cpuUs / floor.cpuUs, 2),
  },
);

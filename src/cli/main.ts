/**
 * `perf-aggregator` CLI. Commands that check something print a JSON verdict and exit 0 only when
 * the check holds. Credentials come from the environment or a hidden prompt, never from argv.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiCallError } from '../client/api-client.js';
import {
  CryptoHelper,
  type Attestation,
  type AttestationCheckResult,
} from '../client/crypto-helper.js';
import { nodePlatform } from '../platform/node.js';
import { AttestationUsageError, attestationCommand } from './attestation-command.js';
import { logCommand, verifyCommand } from './log-commands.js';
import { runMetricsCommand } from './metrics-command.js';
import { progressWriter } from './progress.js';
import { promptHidden } from './prompt.js';

const USAGE = `perf-aggregator <command> [options]

  quote                               fetch and verify the enclave attestation
  submit --exchange X --label L --ttl S   seal and submit credentials (PERF_API_KEY, PERF_API_SECRET,
                                      PERF_API_PASSPHRASE from the environment, or a hidden prompt)
  aggregates <session_id> [--out F] [--from T] [--to T] [--daily]
                                      request signed aggregates (with the daily equity series),
                                      showing the enclave's progress, and save them
  revoke <session_id>                 revoke a session and purge its data
  verify <result.json> [--attestation quote.json] [--root PEM]   verify a saved result offline
  log verify-inclusion --leaf-hash H --index N --size M --root R --proof H1,H2…
  log verify-consistency --size1 N --size2 M --root1 R1 --root2 R2 --proof H1,H2…
  log verify-checkpoint FILE --vkey <C2SP verifier key>
  log consistency --from N --to M     audit the server's log between two sizes
  log vkey                            print the log's C2SP verifier key (from the quote)
  attestation verify <file> [--root PEM] [--at <ISO time or ms>] [--expect-pcr0 HEX] [--allow-debug]
                     [--nonce HEX]    verify a Nitro attestation document (raw CBOR, base64 or quote JSON)
                                      offline; default root: the pinned AWS Nitro root G1
  metrics <file.csv> --kind returns|equity|pnl [--annualization 365] [--start-equity X]
                                      the metrics engine on a date,value CSV (same names as the payload)

common options:
  --url URL              service base URL (default http://localhost:3000)
  --root FILE            trusted root certificate (PEM); default: the AWS Nitro root G1
  --trust-dev-root       trust the development root the server serves (dev mode only; no security)
  --expect-image-hash H  the PCR0 you expect; default: not pinned (the verdict says so)`;

const out = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

async function attest(
  api: ReturnType<typeof CryptoHelper.connect>,
  values: Record<string, string | boolean | undefined>,
) {
  const nonce = randomBytes(32).toString('base64');
  const attestation: Attestation = await api.quote(nonce);
  const roots: string[] = [];
  if (typeof values['root'] === 'string') roots.push(readFileSync(values['root'], 'utf8'));
  if (values['trust-dev-root']) roots.push(await api.devRoot());
  const expected =
    typeof values['expect-image-hash'] === 'string'
      ? values['expect-image-hash']
      : attestation.image_hash;
  const verdict: AttestationCheckResult = await CryptoHelper.verifyAttestation(
    attestation,
    expected,
    {
      ...(roots.length > 0 && { trustedRoots: roots }),
      nonce,
    },
  );
  return { attestation, verdict, pinned: typeof values['expect-image-hash'] === 'string' };
}

async function main(argv: string[]): Promise<number> {
  // Offline and log commands take their own flags.
  if (argv[0] === 'verify') return verifyCommand(argv.slice(1), out);
  if (argv[0] === 'log') return logCommand(argv.slice(1), out);
  if (argv[0] === 'attestation') {
    try {
      return await attestationCommand(argv.slice(1), out);
    } catch (e) {
      throw e instanceof AttestationUsageError ? new UsageError(e.message) : e;
    }
  }
  if (argv[0] === 'metrics') {
    return runMetricsCommand(argv.slice(1), {
      readFile: (p) => readFileSync(p, 'utf8'),
      stdout: (s) => void process.stdout.write(s),
      stderr: (s) => void process.stderr.write(s),
    });
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      root: { type: 'string' },
      'trust-dev-root': { type: 'boolean' },
      'expect-image-hash': { type: 'string' },
      exchange: { type: 'string' },
      label: { type: 'string' },
      ttl: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      daily: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const api = CryptoHelper.connect(values.url!);
  switch (command) {
    case 'quote': {
      const { attestation, verdict, pinned } = await attest(api, values);
      out({
        valid: verdict.valid,
        image_hash: attestation.image_hash,
        image_hash_pinned: pinned,
        format: attestation.format,
        checks: verdict.checks,
      });
      return verdict.valid ? 0 : 1;
    }
    case 'submit': {
      if (!values.exchange || !values.label || !values.ttl)
        throw new UsageError('submit needs --exchange, --label and --ttl');
      const { attestation, verdict } = await attest(api, values);
      if (!verdict.valid) {
        out({ submitted: false, reason: 'attestation did not verify', checks: verdict.checks });
        return 1;
      }
      const apiKey = process.env['PERF_API_KEY'] || (await promptHidden('API key: '));
      const apiSecret = process.env['PERF_API_SECRET'] || (await promptHidden('API secret: '));
      const passphrase = process.env['PERF_API_PASSPHRASE'];
      const sealed = CryptoHelper.encryptCredentials(
        { exchange: values.exchange, apiKey, apiSecret, ...(passphrase && { passphrase }) },
        attestation.enclave_pubkey,
        nodePlatform,
      );
      const res = await api.submitKey(sealed, {
        exchange: values.exchange,
        label: values.label,
        ttl: Number(values.ttl),
      });
      out(res);
      return 0;
    }
    case 'aggregates': {
      if (!arg) throw new UsageError('aggregates needs a session id');
      const { attestation, verdict } = await attest(api, values);
      const progress = progressWriter(process.stderr);
      const res = await api
        .requestAggregatesJob(arg, {
          ...(values.from && { from: values.from }),
          ...(values.to && { to: values.to }),
          ...(values.daily && { daily: true }),
          onProgress: (p) => progress.update(p),
        })
        .finally(() => progress.end());
      const signatureOk = CryptoHelper.verifySignedAggregates(
        res.aggregates_signed,
        attestation.signing_pubkey,
        nodePlatform,
      );
      const file = values.out ?? `aggregates-${arg.slice(0, 8)}.json`;
      writeFileSync(file, `${JSON.stringify({ ...res, attestation }, null, 2)}\n`);
      out({
        saved: file,
        signature_valid: signatureOk,
        attestation_valid: verdict.valid,
        payload: res.aggregates_signed.payload,
      });
      return signatureOk && verdict.valid ? 0 : 1;
    }
    case 'revoke': {
      if (!arg) throw new UsageError('revoke needs a session id');
      out(await api.revoke(arg));
      return 0;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ApiCallError)
      out({ error: { code: e.code, message: e.message, status: e.status } });
    else if (e instanceof UsageError) process.stderr.write(`${e.message}\n\n${USAGE}\n`);
    else out({ error: { code: 'CLI_ERROR', message: e instanceof Error ? e.message : String(e) } });
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);

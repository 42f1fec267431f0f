/**
 * Enclave instances in this process, wired exactly like src/enclave/main.ts but with an injected
 * clock for the enclave's rotation decisions: the real RPC server on a real Unix socket, the real
 * dev NSM, the real KMS client against a real local key service (src/keyservice/server.ts) on
 * loopback, and the host's real link with the real key ring store. The NSM and the key service
 * keep the wall clock (they are other machines' clocks in production), so attestation freshness
 * and SigV4 still hold while the enclave's clock jumps ahead by days.
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnclaveClient } from '../../src/api/enclave-client.js';
import { createEnclaveLink, type EnclaveLink } from '../../src/api/enclave-link.js';
import { createDevNsm } from '../../src/enclave/dev-nsm.js';
import { candlePrices, exchangeEndpoints, exchangeFactory } from '../../src/enclave/exchanges.js';
import { SUBMIT_GRACE_MS, type RotationPolicy } from '../../src/enclave/keyring.js';
import { createKmsKeyService } from '../../src/enclave/kms-key-service.js';
import { createRpcServer } from '../../src/enclave/rpc-server.js';
import { createEnclaveService } from '../../src/enclave/service.js';
import { pemToDer } from '../../src/attestation/pem.js';
import { createKeyService } from '../../src/keyservice/server.js';
import { loadOrCreateState } from '../../src/keyservice/state.js';
import { nodePlatform } from '../../src/platform/node.js';
import type { KeyRingStore } from '../../src/store/keyring-store.js';
import { readFileSync, existsSync } from 'node:fs';

export const HOUR = 3_600_000;

export interface LocalKms {
  url: string;
  keyArn: string;
  dataDir: string;
  credentials: { access_key_id: string; secret_access_key: string; session_token: null };
  /** What the key service logged (its refusals carry a `reason`). */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

function collector(into: Record<string, unknown>[]) {
  return {
    info: (o: object) => void into.push({ level: 'info', ...o }),
    warn: (o: object) => void into.push({ level: 'warn', ...o }),
    error: (o: object) => void into.push({ level: 'error', ...o }),
  };
}

export async function startLocalKms(
  allowedPcr0: string[],
  dataDir?: string,
  now: () => number = Date.now,
): Promise<LocalKms> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'pa-kms-'));
  const state = loadOrCreateState(dir, 'local');
  const logs: Record<string, unknown>[] = [];
  const rootFile = join(dir, 'dev-root', 'root.pem');
  const server: Server = createKeyService({
    masterKey: state.masterKey,
    keyArn: state.keyArn,
    region: 'local',
    credentials: { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey },
    allowedPcr0,
    trustedRoot: () => (existsSync(rootFile) ? pemToDer(readFileSync(rootFile, 'utf8')) : null),
    now,
    log: collector(logs),
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyArn: state.keyArn,
    dataDir: dir,
    credentials: {
      access_key_id: state.accessKeyId,
      secret_access_key: state.secretAccessKey,
      session_token: null,
    },
    logs,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

export interface InProcessEnclave {
  link: EnclaveLink;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startInProcessEnclave(opts: {
  kms: LocalKms;
  ring: KeyRingStore;
  pcr0: Uint8Array;
  clock: { now: number };
  rotation?: Partial<RotationPolicy>;
  exchangeBaseUrl?: string;
}): Promise<InProcessEnclave> {
  const nsm = await createDevNsm({
    dataDir: opts.kms.dataDir, // one dev root, trusted by the key service
    moduleId: 'in-process-enclave',
    pcrs: new Map([[0, opts.pcr0]]),
  });
  const logs: Record<string, unknown>[] = [];
  const log = collector(logs);
  const service = createEnclaveService({
    platform: nodePlatform,
    attester: { format: 'dev', attest: (r) => nsm.attest(r) },
    pcr0: opts.pcr0,
    keyService: createKmsKeyService({
      keyArn: opts.kms.keyArn,
      region: 'local',
      endpoint: opts.kms.url,
      attest: (publicKey) => nsm.attest({ publicKey }),
    }),
    rotation: {
      rotationMs: 24 * HOUR,
      maxTtlMs: 7 * 24 * HOUR,
      submitGraceMs: SUBMIT_GRACE_MS,
      ...opts.rotation,
    },
    exchanges: exchangeFactory(
      exchangeEndpoints(opts.exchangeBaseUrl ? { binance: opts.exchangeBaseUrl } : {}),
    ),
    prices: candlePrices,
    now: () => opts.clock.now,
    log,
    keyCheckTtlMs: 60_000,
  });
  const socketPath = join(mkdtempSync(join(tmpdir(), 'pa-ipe-')), 'e.sock');
  const server = createRpcServer({ service, maxInflight: 8, log });
  await new Promise<void>((ok) => server.listen(socketPath, ok));
  const client = createEnclaveClient({ socketPath, defaultTimeoutMs: 30_000 });
  const link = createEnclaveLink(client, {
    ring: opts.ring,
    kmsCredentials: async () => opts.kms.credentials,
  });
  return {
    link,
    logs,
    async close() {
      link.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

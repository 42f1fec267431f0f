/**
 * The host's view of the enclave: the RPC client plus the enclave's public identity (keys, image
 * hash), loaded by `init`. The sealed key ring is opaque to the host: it keeps it in the database
 * (migration 0005) so that a restarted enclave, or a second enclave instance behind the same
 * database, gets the same keys back. Writes are compare-and-swap on the row's version: when two
 * enclaves rotate at once, the loser loads the winner's ring.
 */
import { CodedError } from '../common/errors.js';
import type { RpcResponseBody, WireAwsCredentials } from '../wire/messages.js';
import { EnclaveCallError, type EnclaveClient } from './enclave-client.js';

export type EnclaveIdentity = Omit<RpcResponseBody<'init'>, 'sealed_ring' | 'changed'>;

/** Where the sealed ring lives (src/store/keyring-store.ts). */
export interface RingStore {
  load(): Promise<{ version: number; sealed: string } | null>;
  save(expected: number | null, sealed: string): Promise<boolean>;
}

export interface EnclaveLink {
  identity(): Promise<EnclaveIdentity>;
  /**
   * Reloads the stored ring into the enclave, which applies its rotation policy; stores the result
   * when it changed. Run periodically, and when a client names a key this host does not know yet.
   */
  sync(): Promise<EnclaveIdentity>;
  call: EnclaveClient['call'];
  /** Forget the cached identity (the enclave restarted). */
  reset(): void;
  close(): void;
}

export interface EnclaveLinkOptions {
  ring: RingStore;
  /** Credentials the enclave signs its key service requests with (the host's AWS identity). */
  kmsCredentials: () => Promise<WireAwsCredentials>;
}

const MAX_CAS_ATTEMPTS = 5;

export function createEnclaveLink(client: EnclaveClient, opts: EnclaveLinkOptions): EnclaveLink {
  let identity: Promise<EnclaveIdentity> | null = null;
  let syncing: Promise<EnclaveIdentity> | null = null;

  const init = async (): Promise<EnclaveIdentity> => {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await opts.ring.load();
      const res = await client.call('init', {
        sealed_ring: stored?.sealed ?? null,
        kms_credentials: await opts.kmsCredentials(),
      });
      const { sealed_ring, changed, ...id } = res;
      if (!changed || (await opts.ring.save(stored?.version ?? null, sealed_ring))) return id;
      // Another instance stored a ring first: load it (the enclave drops the one it proposed).
    }
    throw new CodedError('STORE_CONFLICT', 'the key ring kept changing under this instance');
  };

  const ensure = (): Promise<EnclaveIdentity> => {
    identity ??= init().catch((e: unknown) => {
      identity = null;
      throw e;
    });
    return identity;
  };

  const sync = (): Promise<EnclaveIdentity> => {
    // One sync at a time; the identity is replaced only once the new ring is stored.
    syncing ??= init()
      .then((id) => {
        identity = Promise.resolve(id);
        return id;
      })
      .finally(() => {
        syncing = null;
      });
    return syncing;
  };

  const retryable = (e: unknown): 'reload' | 'sync' | null => {
    if (!(e instanceof EnclaveCallError)) return null;
    if (e.code === 'ENCLAVE_NOT_READY') return 'reload'; // a restarted enclave
    if (e.code === 'UNKNOWN_ENCLAVE_KEY') return 'sync'; // another instance rotated
    return null;
  };

  return {
    identity: ensure,
    sync,
    async call(method, body, timeoutMs, onProgress) {
      await ensure();
      try {
        return await client.call(method, body, timeoutMs, onProgress);
      } catch (e) {
        const how = retryable(e);
        if (how === null) throw e;
        if (how === 'reload') {
          identity = null;
          await ensure();
        } else await sync();
        return client.call(method, body, timeoutMs, onProgress);
      }
    },
    reset() {
      identity = null;
    },
    close() {
      client.close();
    },
  };
}

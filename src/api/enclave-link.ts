/**
 * The host's view of the enclave: the RPC client plus the enclave's public identity (keys, image
 * hash), loaded by `init`. The sealed key ring is opaque to the host; it only keeps it so that a
 * restarted enclave of the same image gets the same keys back.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { RpcMethod, RpcRequestBody, RpcResponseBody } from '../wire/messages.js';
import { EnclaveCallError, type EnclaveClient } from './enclave-client.js';

export type EnclaveIdentity = Omit<RpcResponseBody<'init'>, 'sealed_ring'>;

export interface EnclaveLink {
  identity(): Promise<EnclaveIdentity>;
  call<M extends RpcMethod>(
    method: M,
    body: RpcRequestBody<M>,
    timeoutMs?: number,
  ): Promise<RpcResponseBody<M>>;
  /** Forget the cached identity (the enclave restarted). */
  reset(): void;
  close(): void;
}

export function createEnclaveLink(client: EnclaveClient, ringFile: string): EnclaveLink {
  let identity: Promise<EnclaveIdentity> | null = null;

  const init = async (): Promise<EnclaveIdentity> => {
    const sealed = existsSync(ringFile) ? readFileSync(ringFile, 'utf8').trim() : null;
    const { sealed_ring, ...id } = await client.call('init', { sealed_ring: sealed || null });
    if (sealed_ring !== sealed) writeFileSync(ringFile, sealed_ring, { mode: 0o600 });
    return id;
  };

  const ensure = (): Promise<EnclaveIdentity> => {
    identity ??= init().catch((e: unknown) => {
      identity = null;
      throw e;
    });
    return identity;
  };

  return {
    identity: ensure,
    async call(method, body, timeoutMs) {
      await ensure();
      try {
        return await client.call(method, body, timeoutMs);
      } catch (e) {
        if (!(e instanceof EnclaveCallError) || e.code !== 'ENCLAVE_NOT_READY') throw e;
        identity = null; // a restarted enclave: load the ring again, then retry once
        await ensure();
        return client.call(method, body, timeoutMs);
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

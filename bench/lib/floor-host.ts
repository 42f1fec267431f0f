/**
 * The floor of bench/api.ts, host half: the least any host must do for one submit_key on this
 * architecture. A Fastify POST route sends the envelope's ephemeral key to the floor enclave
 * (bench/lib/floor-enclave.ts, a separate process, as the real enclave is), then durably inserts
 * one row into one table with no constraint but its primary key, through the same group commit as
 * the real store, and answers `{ok:true}`. argv: the enclave's socket, a PostgreSQL URL. Prints one
 * JSON line with its URL.
 */
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { exitWithParent } from '../../src/runtime/lifeline.js';
import { turnWriter } from '../../src/runtime/turn-writer.js';
import { groupCommit } from '../../src/store/group-commit.js';
import { encodeFrame, FrameDecoder } from '../../src/wire/frame.js';

const [socketPath, databaseUrl] = process.argv.slice(2) as [string, string];
const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
await pool.query(
  'CREATE TABLE IF NOT EXISTS floor_sessions (session_id text PRIMARY KEY, envelope text NOT NULL)',
);
const insert = groupCommit<[string, string]>({
  maxBatch: 16,
  maxInflight: 1,
  retryAlone: () => false,
  write: (rows) =>
    pool
      .query({
        name: 'insert',
        text: 'INSERT INTO floor_sessions SELECT * FROM unnest($1::text[], $2::text[])',
        values: [rows.map((r) => r[0]), rows.map((r) => r[1])],
      })
      .then(() => undefined),
});

const socket = net.createConnection(socketPath);
await new Promise((ok, fail) => socket.once('connect', ok).once('error', fail));
const send = turnWriter(socket);
const decoder = new FrameDecoder();
const pending = new Map<number, () => void>();
let nextId = 1;
socket.on('data', (chunk: Buffer) => {
  for (const frame of decoder.push(chunk)) {
    const { id } = JSON.parse(Buffer.from(frame).toString()) as { id: number };
    pending.get(id)?.();
    pending.delete(id);
  }
});
const utf8 = new TextEncoder();
const open = (ephemeral_pub: string) =>
  new Promise<void>((ok) => {
    const id = nextId++;
    pending.set(id, ok);
    send(encodeFrame(utf8.encode(JSON.stringify({ id, ephemeral_pub }))));
  });

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
app.post<{ Body: { ephemeral_pub: string } }>('/floor', async (req) => {
  await open(req.body.ephemeral_pub);
  await insert([randomBytes(32).toString('base64url'), JSON.stringify(req.body)]);
  return { ok: true };
});
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
const stop = () =>
  void app.close().then(async () => {
    socket.destroy();
    await pool.end();
    process.exit(0);
  });
process.on('SIGTERM', stop);
exitWithParent(stop);

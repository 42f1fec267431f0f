/**
 * The ceiling of bench/api.ts, run as its own process: a bare Fastify app on loopback with one
 * POST route that parses the JSON body and answers `{ok:true}`. Prints one JSON line with its URL.
 */
import Fastify from 'fastify';
import { exitWithParent } from '../../src/runtime/lifeline.js';

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
app.post('/ceiling', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
exitWithParent(stop); // started with LIFELINE_FLAG: gone with the benchmark, however it ends

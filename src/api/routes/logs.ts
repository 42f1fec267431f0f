/** Protocol §6, per session: the session's log entries with inclusion proofs, and its non-sensitive events. */
import type { FastifyInstance } from 'fastify';
import { formatTime } from '../../common/time.js';
import type { AppDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { sessionLogsSchema } from '../schemas.js';
import { publicLeaf } from './log.js';

export function sessionLogRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { session_id: string } }>(
    '/api/logs/:session_id',
    { schema: sessionLogsSchema },
    async (req) => {
      const { session_id } = req.params;
      const session = await deps.store.getSession(session_id);
      if (!session) throw new ApiError('SESSION_NOT_FOUND');
      if (session.status === 'revoked') throw new ApiError('SESSION_REVOKED');
      const leaves = await deps.logStore.leavesOfSession(session_id);
      const entries = await Promise.all(
        leaves.map(async (l) => ({
          ...publicLeaf(l),
          ...(await deps.tlog.proveInclusion(l.leafIndex)),
        })),
      );
      const events = await deps.store.opsLogs(session_id);
      return {
        session_id,
        status: session.status,
        entries,
        events: events.map((e) => ({
          event: e.event,
          at: formatTime(e.at.getTime()),
          detail: e.detail,
        })),
      };
    },
  );
}

/** Protocol §6 (per-session part): a session's signed entries and non-sensitive events. */
import type { FastifyInstance } from 'fastify';
import { formatTime } from '../../common/time.js';
import type { AppDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { sessionLogsSchema } from '../schemas.js';

export function logRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Params: { session_id: string } }>(
    '/api/logs/:session_id',
    { schema: sessionLogsSchema },
    async (req) => {
      const { session_id } = req.params;
      const session = await deps.store.getSession(session_id);
      if (!session) throw new ApiError('SESSION_NOT_FOUND');
      if (session.status === 'revoked') throw new ApiError('SESSION_REVOKED');
      const latest = await deps.store.latestAggregate(session_id);
      const events = await deps.store.opsLogs(session_id);
      return {
        session_id,
        status: session.status,
        entries: latest
          ? [
              {
                aggregates_signed: {
                  signature: latest.signature,
                  payload: JSON.parse(latest.payloadJson) as object,
                },
              },
            ]
          : [],
        events: events.map((e) => ({
          event: e.event,
          at: formatTime(e.at.getTime()),
          detail: e.detail,
        })),
      };
    },
  );
}

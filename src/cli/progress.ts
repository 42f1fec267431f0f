/**
 * The `aggregates` command's progress display on stderr: a status line (formatProgress) redrawn in
 * place on a terminal, and one line per phase change otherwise (CI logs stay short).
 */
import type { JobProgress } from '../client/api-client.js';
import { formatProgress } from '../client/progress-text.js';

export function progressWriter(stream: { isTTY?: boolean; write(s: string): unknown }): {
  update(p: JobProgress): void;
  end(): void;
} {
  let lastPhase: string | null = null;
  let drawn = false;
  return {
    update(p) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${formatProgress(p)}`);
        drawn = true;
      } else if (p.phase !== lastPhase) {
        stream.write(`${formatProgress(p)}\n`);
      }
      lastPhase = p.phase;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

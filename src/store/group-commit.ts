/**
 * Group commit: many callers each hand in one row and get their own outcome, while the database
 * sees one statement and one commit (one WAL flush) per batch. No timer: the rows handed in
 * during one turn of the event loop go together at the end of that turn (setImmediate) when fewer
 * than `maxInflight` batches are being written; otherwise they wait for one of them to finish and
 * go with every row that queued meanwhile. A burst of answers from the enclave arrives in one
 * turn, so it becomes one batch rather than a lone first row and a second batch behind it. Under
 * load the batches grow by themselves, which is what cuts the per-row cost of parse, plan, round
 * trip, commit and WAL flush (docs/benchmarks.md).
 *
 * Written here because what a batch does on failure is the store's business: when a batch is
 * refused for its data (a constraint, a bad value), one row may be at fault, so each row is
 * written again alone and gets its own answer; any other failure (database unavailable, timeout)
 * is every row's answer.
 *
 * @example
 * const insert = groupCommit({ maxBatch: 16, maxInflight: 1, write, retryAlone });
 * await insert(row); // resolves when the row's batch has committed
 */
export interface GroupCommitOptions<T> {
  /** Most rows in one statement. */
  maxBatch: number;
  /** Most statements in flight at once. */
  maxInflight: number;
  /** Writes the rows (one or more) atomically: all or none. */
  write(rows: T[]): Promise<void>;
  /** Whether a failed batch may be down to one row's data, so that rows are retried alone. */
  retryAlone(err: unknown): boolean;
}

interface Waiting<T> {
  row: T;
  resolve(): void;
  reject(err: unknown): void;
}

export function groupCommit<T>(opts: GroupCommitOptions<T>): (row: T) => Promise<void> {
  if (opts.maxBatch < 1 || opts.maxInflight < 1)
    throw new RangeError('maxBatch and maxInflight ≥ 1');
  const queue: Waiting<T>[] = [];
  let inflight = 0;
  let scheduled = false;

  const settleAlone = (w: Waiting<T>): Promise<void> =>
    opts.write([w.row]).then(w.resolve, w.reject);

  const write = async (batch: Waiting<T>[]): Promise<void> => {
    try {
      await opts.write(batch.map((w) => w.row));
    } catch (err) {
      if (batch.length === 1 || !opts.retryAlone(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map(settleAlone));
      return;
    }
    for (const w of batch) w.resolve();
  };

  const pump = (): void => {
    while (inflight < opts.maxInflight && queue.length > 0) {
      const batch = queue.splice(0, opts.maxBatch);
      inflight++;
      void write(batch).finally(() => {
        inflight--;
        pump();
      });
    }
  };

  const endOfTurn = (): void => {
    scheduled = false;
    pump();
  };

  return (row) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ row, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(endOfTurn);
      }
    });
}

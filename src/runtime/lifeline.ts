/**
 * A child process's lifeline to the process that started it. A parent that dies without stopping
 * its children (SIGKILL, a crash, OOM) cannot signal them, and on Linux nothing else tells them:
 * they would live on as orphans holding ports, sockets and keys in memory. So the parent passes
 * `--exit-with-stdin` and keeps the child's stdin as an open pipe; the kernel closes that pipe
 * when the parent dies, however it dies, and the child then stops as on SIGTERM.
 */
export const LIFELINE_FLAG = '--exit-with-stdin';

/** Calls `stop` once when stdin ends, if this process was started with the lifeline flag. */
export function exitWithParent(stop: () => void, argv: readonly string[] = process.argv): void {
  if (!argv.includes(LIFELINE_FLAG)) return;
  let stopped = false;
  const once = () => {
    if (stopped) return;
    stopped = true;
    stop();
  };
  process.stdin.on('end', once).on('error', once).resume();
}

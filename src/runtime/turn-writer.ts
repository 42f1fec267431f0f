/**
 * Writes frames to a socket, those of one turn of the event loop in one system call: the first
 * write of a turn corks the socket and a setImmediate uncorks it, so Node hands every frame
 * written meanwhile (the answers to a burst of requests) to one writev. Each write wakes the
 * peer's process, which costs more than the bytes on a busy VM (docs/benchmarks.md).
 */
export function turnWriter(socket: {
  cork(): void;
  uncork(): void;
  write(b: Uint8Array): boolean;
  readonly destroyed: boolean;
}): (frame: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (frame) => {
    if (socket.destroyed) return;
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    socket.write(frame);
  };
}

/** Reads a secret from the terminal without echoing it. Secrets never come from argv. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new Error(`${question.trim()} is needed: set it in the environment or run in a terminal`);
  }
  process.stderr.write(question);
  const muted = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

// `npm run dev`: rebuild on change (esbuild is fast) and restart the service.
import { spawn, spawnSync } from 'node:child_process';
import { watch } from 'node:fs';

let child = null;
let timer = null;
const restart = () => {
  if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) return;
  const start = () => {
    child = spawn(process.execPath, ['dist/api/main.js'], { stdio: 'inherit' });
  };
  if (child && child.exitCode === null) {
    child.once('exit', start);
    child.kill('SIGTERM');
  } else start();
};
watch('src', { recursive: true }, () => {
  clearTimeout(timer);
  timer = setTimeout(restart, 200);
});
restart();
process.on('SIGINT', () => {
  child?.kill('SIGTERM');
  process.exit(0);
});

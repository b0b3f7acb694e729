// Runs every tests/browser/*.test.mjs with Node's test runner against ONE evreg-dev: starts
// it (harness.startEvreg), hands its URL to the test files in EVREG_BROWSER_URL (its data
// directory in EVREG_BROWSER_DATA_DIR), and stops
// it by its PID when the runner ends, passed, failed or interrupted. Exits with the
// runner's status. Arguments are passed on to `node --test` (e.g. --test-name-pattern=QR);
// the spec reporter, one line per test, unless one of them names another.
//
//   node tests/browser/run.mjs          # scripts/test-browser.sh runs this

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startEvreg } from './harness.mjs';

const dir = path.join(ROOT, 'tests/browser');
const files = readdirSync(dir).filter((name) => name.endsWith('.test.mjs')).sort().map((name) => path.join(dir, name));
if (files.length === 0) throw new Error(`no *.test.mjs under ${dir}`);

const server = await startEvreg();
console.log(`evreg-dev on ${server.url} (data and log in ${server.dataDir})`);
let status = 1;
try {
  const runner = spawn(process.execPath, ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files], {
    env: { ...process.env, EVREG_BROWSER_URL: server.url, EVREG_BROWSER_DATA_DIR: server.dataDir },
    stdio: 'inherit',
  });
  // An interrupted run still stops the server (below) once the runner is gone.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));
  status = await new Promise((resolve) => runner.once('exit', (code) => resolve(code ?? 1)));
} finally {
  await server.stop();
}
if (status !== 0) console.error(`browser tests failed; evreg-dev's log: ${server.log}`);
process.exit(status);

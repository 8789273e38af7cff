// Runs the compiled test files with node's test runner. Node 20 does not expand globs, so the file
// list is built here. `node scripts/test.mjs unit` runs only the unit tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv[2];
const suites = only ? [only] : ['unit', 'integration'];
if (suites.includes('integration')) {
  // kubectl and helm, the real Prometheus the provider tests and the demo start, and the Chromium that checks
  // the HTML report (each skipped when present).
  const tools = spawnSync('bash', ['scripts/install-tools.sh', '--prometheus', '--chromium'], { stdio: 'inherit' });
  if (tools.status !== 0) process.exit(tools.status ?? 1);
}
const files = suites.flatMap((suite) => {
  const dir = join('dist', 'test', suite);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f)) : [];
});
if (files.length === 0) {
  console.error('scripts/test.mjs: no test files found under dist/test; run the build first');
  process.exit(1);
}
const env = { ...process.env, PATH: `${join(process.cwd(), '.tools', 'bin')}:${process.env.PATH}` };
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=240000', '--test-force-exit', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);

// Copies crds/*.yaml (the single source of truth) byte for byte into helm/fledge/crds/, and removes
// chart CRDs that no longer have a source. `--check` only reports drift and exits 1 if there is any,
// so CI can catch a chart that was not re-synced.
import { readdirSync, readFileSync, writeFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'crds');
const chartDir = join(root, 'helm', 'fledge', 'crds');
const checkOnly = process.argv.includes('--check');

const yamlFiles = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : []);

const sources = yamlFiles(sourceDir);
const drift = [];
if (!checkOnly) mkdirSync(chartDir, { recursive: true });

for (const file of sources) {
  const wanted = readFileSync(join(sourceDir, file));
  const target = join(chartDir, file);
  const current = existsSync(target) ? readFileSync(target) : undefined;
  if (current && current.equals(wanted)) continue;
  drift.push(current ? `changed: ${file}` : `missing: ${file}`);
  if (!checkOnly) writeFileSync(target, wanted);
}
for (const file of yamlFiles(chartDir)) {
  if (sources.includes(file)) continue;
  drift.push(`stale: ${file}`);
  if (!checkOnly) rmSync(join(chartDir, file));
}

if (checkOnly && drift.length > 0) {
  console.error(`helm/fledge/crds is out of sync with crds/ (run node scripts/sync-crds.mjs):\n  ${drift.join('\n  ')}`);
  process.exit(1);
}
console.log(drift.length === 0 ? 'helm/fledge/crds is in sync' : `synced helm/fledge/crds: ${drift.join(', ')}`);

/** The chart judged by helm 4: lint, template, and a real install into the local cluster. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestCluster } from './support/cluster.js';
import { repoRoot, startTestCluster } from './support/cluster.js';

describe('helm 4 with the fledge chart', () => {
  let c: TestCluster;
  const chart = join(repoRoot(), 'helm', 'fledge');
  before(async () => {
    // helm installs the CRDs itself from the chart's crds/ directory.
    c = await startTestCluster({ crds: false });
  });
  after(async () => c.close());

  test('helm lint passes', async () => {
    const r = await c.helm(['lint', chart]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('helm template renders the controller Deployment with Flagger-named flags', async () => {
    const r = await c.helm(['template', 'fledge', chart, '--namespace', 'fledge-system', '--set', 'meshProvider=istio']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kind: Deployment/);
    assert.match(r.stdout, /--mesh-provider=istio/);
    assert.match(r.stdout, /kind: ClusterRole\b/);
    // The heap cap that keeps 1,000 canaries inside the default 256Mi limit (bench/README.md, fleet).
    assert.match(r.stdout, /name: NODE_OPTIONS\s+value: "--max-old-space-size=160"/);
  });

  test('helm install creates the CRDs and the objects, and --wait sees them ready', async () => {
    const r = await c.helm(['install', 'fledge', chart, '--namespace', 'fledge-system', '--create-namespace', '--wait', '--timeout', '60s']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    const crds = await c.kubectl(['get', 'crd', '-o', 'name']);
    for (const name of ['canaries.flagger.app', 'metrictemplates.flagger.app', 'alertproviders.flagger.app']) {
      assert.match(crds.stdout, new RegExp(name.replace(/\./g, '\\.')));
    }
    const deploy = await c.kubectl(['get', 'deployment', '-n', 'fledge-system', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.match(deploy.stdout, /fledge/);
    const list = await c.helm(['list', '-n', 'fledge-system', '-o', 'json']);
    const releases = JSON.parse(list.stdout) as Array<{ name: string; status: string }>;
    assert.deepEqual(releases.map((x) => [x.name, x.status]), [['fledge', 'deployed']]);
    const uninstall = await c.helm(['uninstall', 'fledge', '-n', 'fledge-system', '--wait']);
    assert.equal(uninstall.code, 0, uninstall.stderr);
    const after = await c.kubectl(['get', 'deployment', '-n', 'fledge-system', '-o', 'name']);
    assert.equal(after.stdout.trim(), '');
  });
});

/**
 * The local cluster judged by the real kubectl 1.33: client-side and server-side apply, set image,
 * printer columns, watch, garbage collection, wait and explain.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestCluster } from './support/cluster.js';
import { eventually, repoRoot, startTestCluster } from './support/cluster.js';

/** kubectl's table output as header -> cell of the first row, read by the header's column positions. */
const columns = (table: string): Record<string, string> => {
  const [header = '', row = ''] = table.split('\n');
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  return Object.fromEntries(starts.map((c, i) => [c.name, row.slice(c.at, starts[i + 1]?.at ?? row.length).trim()]));
};

const fixture = (name: string): string => readFileSync(join(repoRoot(), 'test', 'fixtures', name), 'utf8');

describe('kubectl against the local cluster', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => c.close());

  test('apply creates, a second apply is unchanged', async () => {
    const first = await c.kubectl(['apply', '-f', '-'], fixture('podinfo.yaml'));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /configmap\/podinfo-config created/);
    assert.match(first.stdout, /deployment.apps\/podinfo created/);
    assert.match(first.stdout, /service\/podinfo created/);
    const second = await c.kubectl(['apply', '-f', '-'], fixture('podinfo.yaml'));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /configmap\/podinfo-config unchanged/);
    assert.match(second.stdout, /deployment.apps\/podinfo unchanged/);
    assert.match(second.stdout, /service\/podinfo unchanged/);
  });

  test('apply of a changed manifest configures, and drops a removed field', async () => {
    const changed = fixture('podinfo.yaml').replace('color: blue', 'color: green').replace(/ {10}env:[\s\S]*?key: color\n/, '');
    const r = await c.kubectl(['apply', '-f', '-'], changed);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configmap\/podinfo-config configured/);
    assert.match(r.stdout, /deployment.apps\/podinfo configured/);
    const cm = await c.kubectl(['get', 'configmap', 'podinfo-config', '-o', 'jsonpath={.data.color}']);
    assert.equal(cm.stdout, 'green');
    const env = await c.kubectl(['get', 'deploy', 'podinfo', '-o', 'jsonpath={.spec.template.spec.containers[0].env}']);
    assert.equal(env.stdout, '');
  });

  test('set image updates the template and bumps the generation', async () => {
    const before = await c.kubectl(['get', 'deploy', 'podinfo', '-o', 'jsonpath={.metadata.generation}']);
    const r = await c.kubectl(['set', 'image', 'deployment/podinfo', 'podinfod=ghcr.io/stefanprodan/podinfo:6.1.0']);
    assert.equal(r.code, 0, r.stderr);
    const image = await c.kubectl(['get', 'deploy', 'podinfo', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    assert.equal(image.stdout, 'ghcr.io/stefanprodan/podinfo:6.1.0');
    const gen = await c.kubectl(['get', 'deploy', 'podinfo', '-o', 'jsonpath={.metadata.generation}']);
    assert.equal(Number(gen.stdout), Number(before.stdout) + 1);
  });

  test('wait --for=jsonpath sees the simulated rollout finish', async () => {
    const r = await c.kubectl(['wait', 'deployment/podinfo', '--for=jsonpath={.status.readyReplicas}=2', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /condition met/);
    const status = await c.kubectl(['rollout', 'status', 'deployment/podinfo', '--timeout=20s']);
    assert.equal(status.code, 0, status.stderr);
  });

  test('server-side apply: a conflict, then --force-conflicts takes the field', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  key: one\n';
    const first = await c.kubectl(['apply', '--server-side', '--field-manager=alice', '-f', '-'], cm);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /configmap\/ssa serverside-applied/);
    const conflict = await c.kubectl(['apply', '--server-side', '--field-manager=bob', '-f', '-'], cm.replace('one', 'two'));
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict/i);
    assert.match(conflict.stderr, /alice/);
    assert.match(conflict.stderr, /\.data\.key/);
    const forced = await c.kubectl(['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], cm.replace('one', 'two'));
    assert.equal(forced.code, 0, forced.stderr);
    const value = await c.kubectl(['get', 'configmap', 'ssa', '-o', 'jsonpath={.data.key}']);
    assert.equal(value.stdout, 'two');
    const managers = await c.kubectl(['get', 'configmap', 'ssa', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}']);
    assert.match(managers.stdout, /bob/);
  });

  test('get canaries prints the printer columns, -o wide the extra ones', async () => {
    const r = await c.kubectl(['apply', '-f', '-'], fixture('canary.yaml'));
    assert.equal(r.code, 0, r.stderr);
    const status = { status: { phase: 'Progressing', canaryWeight: 20, failedChecks: 1, lastTransitionTime: '2026-01-01T00:00:00Z' } };
    const patched = await c.kubectl(['patch', 'canary', 'podinfo', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    assert.equal(patched.code, 0, patched.stderr);
    const get = await c.kubectl(['get', 'canaries']);
    assert.equal(get.code, 0, get.stderr);
    const [header, row] = get.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+STATUS\s+WEIGHT\s+LASTTRANSITIONTIME/);
    assert.match(row ?? '', /^podinfo\s+Progressing\s+20\s+2026-01-01T00:00:00Z/);
    const wide = await c.kubectl(['get', 'canary', 'podinfo', '-o', 'wide']);
    assert.deepEqual(columns(wide.stdout), {
      NAME: 'podinfo',
      STATUS: 'Progressing',
      WEIGHT: '20',
      SUSPENDED: '',
      FAILEDCHECKS: '1',
      INTERVAL: '1m',
      MIRROR: '',
      STEPWEIGHT: '10',
      STEPWEIGHTS: '',
      MAXWEIGHT: '50',
      LASTTRANSITIONTIME: '2026-01-01T00:00:00Z',
    });
    const all = await c.kubectl(['get', 'all']);
    assert.match(all.stdout, /canary.flagger.app\/podinfo/);
  });

  test('get -w streams a change as it happens', async () => {
    const watch = c.spawnKubectl(['get', 'configmap', 'ssa', '-w', '-o', 'custom-columns=NAME:.metadata.name,KEY:.data.key']);
    try {
      await eventually(() => /ssa\s+two/.test(watch.output()), 'the initial row');
      const r = await c.kubectl(['patch', 'configmap', 'ssa', '--type=merge', '-p', '{"data":{"key":"three"}}']);
      assert.equal(r.code, 0, r.stderr);
      await eventually(() => /ssa\s+three/.test(watch.output()), 'the changed row');
    } finally {
      watch.stop();
    }
  });

  test('delete garbage-collects owned objects', async () => {
    const owner = await c.kubectl(['create', 'configmap', 'owner', '--from-literal=a=b', '-o', 'jsonpath={.metadata.uid}']);
    assert.equal(owner.code, 0, owner.stderr);
    const uid = owner.stdout.trim();
    const dependent = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'owned', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }] },
      stringData: { k: 'v' },
    };
    const created = await c.kubectl(['apply', '-f', '-'], JSON.stringify(dependent));
    assert.equal(created.code, 0, created.stderr);
    const del = await c.kubectl(['delete', 'configmap', 'owner']);
    assert.equal(del.code, 0, del.stderr);
    await eventually(async () => (await c.kubectl(['get', 'secret', 'owned'])).code !== 0, 'the dependent to be collected');
    const gone = await c.kubectl(['get', 'secret', 'owned']);
    assert.match(gone.stderr, /NotFound|not found/);
  });

  test('explain reads the CRD schema', async () => {
    const r = await c.kubectl(['explain', 'canary.spec']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KIND:\s+Canary/);
    assert.match(r.stdout, /analysis/);
    assert.match(r.stdout, /targetRef/);
    const deep = await c.kubectl(['explain', 'canary.spec.analysis.stepWeight']);
    assert.equal(deep.code, 0, deep.stderr);
    assert.match(deep.stdout, /integer/);
  });

  test('resources setting every field of Flagger\'s CRDs apply unchanged under strict field validation', async () => {
    const manifests = fixture('flagger-all-fields.yaml');
    // kubectl's default --validate=strict: the server refuses unknown fields instead of pruning them.
    const [canaryOnly = ''] = manifests.split('\n---\n');
    const unknown = await c.kubectl(['apply', '-f', '-'], canaryOnly.replace('    headless: false\n', '    headles: false\n'));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown field "spec\.service\.headles"/);
    assert.notEqual((await c.kubectl(['get', 'canary', 'every-field'])).code, 0);
    const r = await c.kubectl(['apply', '-f', '-'], manifests);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /canary\.flagger\.app\/every-field created/);
    assert.match(r.stdout, /metrictemplate\.flagger\.app\/latency created/);
    assert.match(r.stdout, /metrictemplate\.flagger\.app\/external created/);
    assert.match(r.stdout, /alertprovider\.flagger\.app\/on-call created/);
    assert.match(r.stdout, /alertprovider\.flagger\.app\/team-chat created/);
    // Stored as written, not pruned.
    const jsonpath = async (resource: string, path: string): Promise<string> => {
      const got = await c.kubectl(['get', resource, '-o', `jsonpath=${path}`]);
      assert.equal(got.code, 0, got.stderr);
      return got.stdout;
    };
    const affinity = '{.spec.analysis.sessionAffinity}';
    assert.deepEqual(JSON.parse(await jsonpath('canary/every-field', affinity)), {
      cookieName: 'flagger-cookie',
      primaryCookieName: 'flagger-primary-cookie',
      maxAge: 21600,
      domain: 'app.example.com',
      path: '/',
      sameSite: 'Strict',
      secure: true,
      httpOnly: true,
      partitioned: true,
    });
    const service = '{.spec.service.trafficDistribution} {.spec.service.backendTimeout} {.spec.service.unmanagedMetadata.annotations[0]}';
    assert.equal(await jsonpath('canary/every-field', service), 'PreferClose 10s cloud.google.com/neg');
    assert.equal(await jsonpath('canary/every-field', '{.spec.analysis.webhooks[0].disableTLS}'), 'true');
    assert.equal(await jsonpath('metrictemplate/latency', '{.spec.provider.headers.Accept[1]}'), 'text/plain');
    assert.equal(await jsonpath('metrictemplate/external', '{.spec.provider.type}'), 'externalmetrics');
    // The status fields Flagger writes are declared too.
    const status = { status: { primarySessionAffinityCookie: 'flagger-primary-cookie=abc', lastTrackedRevision: 'r1' } };
    const patched = await c.kubectl(['patch', 'canary', 'every-field', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    assert.equal(patched.code, 0, patched.stderr);
    const written = '{.status.primarySessionAffinityCookie} {.status.lastTrackedRevision}';
    assert.equal(await jsonpath('canary/every-field', written), 'flagger-primary-cookie=abc r1');
    const again = await c.kubectl(['apply', '-f', '-'], manifests);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /canary\.flagger\.app\/every-field unchanged/);
    const explain = await c.kubectl(['explain', 'canary.spec.analysis.sessionAffinity.sameSite']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /cross-site/);
  });

  test('an invalid Canary is refused by kubectl apply with the field named', async () => {
    const bad = fixture('canary.yaml').replace('name: podinfo\n  namespace', 'name: bad\n  namespace').replace('stepWeight: 10', 'stepWeight: 200');
    const r = await c.kubectl(['apply', '-f', '-'], bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.analysis\.stepWeight/);
    const get = await c.kubectl(['get', 'canary', 'bad']);
    assert.notEqual(get.code, 0);
  });
});

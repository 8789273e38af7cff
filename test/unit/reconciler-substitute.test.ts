/** Flux post-build variable substitution: the expression language, strict mode, and per-object rules. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFledgeError } from '../../src/api/index.js';
import type { KubeObject } from '../../src/kube/api.js';
import { parseManifests } from '../../src/reconciler/build.js';
import { collectVariables, substituteManifests, substituteText } from '../../src/reconciler/substitute.js';

const vars = { name: 'podinfo', env: 'prod', empty: '', path: 'a/b/c.tar.gz', mixed: 'hello World', count: '3' };

describe('substituteText', () => {
  const cases: Array<[string, string]> = [
    ['${name}', 'podinfo'],
    ['x-${name}-${env}', 'x-podinfo-prod'],
    ['${missing}', ''],
    ['${missing:=dev}', 'dev'],
    ['${missing=dev}', 'dev'],
    ['${missing:-dev}', 'dev'],
    ['${missing-dev}', 'dev'],
    ['${empty:=dev}', 'dev'],
    ['${env:=dev}', 'prod'],
    ['${missing:=${name}-default}', 'podinfo-default'],
    ['${#name}', '7'],
    ['${mixed^}', 'Hello World'],
    ['${mixed^^}', 'HELLO WORLD'],
    ['${mixed,,}', 'hello world'],
    ['${env,}', 'prod'],
    ['${name:3}', 'info'],
    ['${name:0:3}', 'pod'],
    ['${name:1:-1}', 'odinf'],
    ['${name:x}', 'podinfo'],
    ['${path#*/}', 'b/c.tar.gz'],
    ['${path##*/}', 'b/c.tar.gz'], // `*` does not cross `/`, as in Go's path.Match
    ['${mixed#*l}', 'lo World'],
    ['${mixed##*l}', 'd'],
    ['${path%.*}', 'a/b/c.tar'],
    ['${path%%.*}', 'a/b/c'],
    ['${env/r/R}', 'pRod'],
    ['${path//\\//-}', 'a-b-c.tar.gz'],
    ['${name/#pod/svc}', 'svcinfo'],
    ['${name/%info/cast}', 'podcast'],
    ['${name/#x/y}', 'podinfo'],
    ['$${name}', '${name}'],
    ['$$HOME and $name', '$HOME and $name'],
    ['cost: $5', 'cost: $5'],
    ['a$$${name}', 'a$podinfo'],
  ];
  for (const [input, want] of cases) {
    test(`${input} -> ${want}`, () => assert.equal(substituteText(input, vars), want));
  }

  test('strict mode names the undefined variable; defaults and set-but-empty are fine', () => {
    assert.throws(
      () => substituteText('image: ${registry}/app', vars, { strict: true }),
      (e: unknown) => isFledgeError(e, 'BuildFailed') && /variable "registry" is not set \(strict mode\)/.test(e.message),
    );
    assert.throws(() => substituteText('${registry^^}', vars, { strict: true }), /"registry" is not set/);
    assert.equal(substituteText('${registry:=ghcr.io}/${empty}', vars, { strict: true }), 'ghcr.io/');
  });

  test('malformed and unsupported expressions are errors', () => {
    for (const bad of ['${name', '${}', '${name:+x}', '${name:?x}', '${name+x}', '${name/x}', '${na me}', '${name@}']) {
      assert.throws(() => substituteText(bad, vars), (e: unknown) => isFledgeError(e, 'BuildFailed') && /bad substitution/.test(e.message), bad);
    }
  });
});

const deployment = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: '${name}', namespace: 'apps', ...extra },
  spec: { replicas: '${count}' },
});

describe('substituteManifests', () => {
  test('values land in the YAML text, so plain scalars retype and quoted ones stay strings', () => {
    const docs = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  replicas: "${count}"\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${count}\n  paused: ${paused:=false}\n',
      'app.yaml',
    );
    const [configMap, dep] = substituteManifests(docs, vars);
    assert.deepEqual(configMap!.data, { replicas: '3' });
    assert.equal(dep!.metadata.name, 'podinfo');
    assert.deepEqual(dep!.spec, { replicas: 3, paused: false });
  });

  test('objects without their YAML are serialized for substitution', () => {
    const [out] = substituteManifests([deployment()], vars);
    assert.equal(out!.metadata.name, 'podinfo');
    assert.equal(out!.metadata.namespace, 'apps');
  });

  test('the substitute: disabled label or annotation skips an object', () => {
    const byAnnotation = deployment({ annotations: { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' } });
    const byLabel = deployment({ labels: { 'kustomize.toolkit.fluxcd.io/substitute': 'disabled' } });
    const [a, b, c] = substituteManifests([byAnnotation, byLabel, deployment()], vars);
    assert.equal(a!.metadata.name, '${name}');
    assert.equal(b!.metadata.name, '${name}');
    assert.equal(c!.metadata.name, 'podinfo');
  });

  test('with no variables at all nothing is substituted, as in Flux', () => {
    const input = deployment();
    const [out] = substituteManifests([input], {}, { strict: true });
    assert.equal(out, input);
  });

  test('strict mode errors name the object and the variable', () => {
    assert.throws(
      () => substituteManifests([deployment()], { count: '1' }, { strict: true }),
      (e: unknown) => isFledgeError(e, 'BuildFailed') && /Deployment\/apps\/\$\{name\}: .*variable "name" is not set/.test(e.message),
    );
  });

  test('invalid variable names are refused; newlines in values are dropped', () => {
    assert.throws(() => substituteManifests([deployment()], { 'my-var': 'x' }), /variable name "my-var" is invalid/);
    const [out] = substituteManifests([deployment()], { name: 'pod\ninfo\n', count: '2' });
    assert.equal(out!.metadata.name, 'podinfo');
  });

  test('a substitution that breaks the object is a BuildFailed naming it', () => {
    const docs = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n', 'x.yaml');
    assert.throws(() => substituteManifests(docs, { name: '""' }), /ConfigMap\/\$\{name\}: after variable substitution the object no longer has/);
    assert.throws(() => substituteManifests(docs, { name: 'a: [' }), /the YAML after variable substitution is invalid/);
  });
});

describe('collectVariables', () => {
  test('substituteFrom in order, Secret data decoded, inline substitute wins', () => {
    const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vars' }, data: { region: 'eu', tier: 'gold' } };
    const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'secret-vars' }, data: { token: Buffer.from('t0k3n').toString('base64'), tier: Buffer.from('silver').toString('base64') } };
    assert.deepEqual(collectVariables([configMap, secret], { region: 'us' }), { region: 'us', tier: 'silver', token: 't0k3n' });
  });
});

/** Building a Kustomization's objects: plain manifest trees, Lists, errors, ignore rules and kustomize. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { isFledgeError } from '../../src/api/index.js';
import type { BuildOptions } from '../../src/reconciler/build.js';
import { buildDocuments, buildManifests } from '../../src/reconciler/build.js';
import type { RunCommand } from '../../src/reconciler/exec.js';
import { createRunCommand } from '../../src/reconciler/exec.js';
import { compileIgnore } from '../../src/reconciler/ignore.js';

const KUBECTL = '/work/main/.tools/bin/kubectl';

let tmp: string;
let run: RunCommand;
let n = 0;

/** A fresh source tree holding `files` (path -> content). */
const tree = async (files: Record<string, string>): Promise<string> => {
  const root = join(tmp, `src-${++n}`);
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
};

const cm = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

const names = (objs: Array<{ kind: string; metadata: { name: string } }>) => objs.map((o) => `${o.kind}/${o.metadata.name}`);

const buildFails = async (opts: BuildOptions, pattern: RegExp): Promise<void> => {
  await assert.rejects(buildManifests(opts), (e: unknown) => {
    assert.ok(isFledgeError(e, 'BuildFailed'), `expected BuildFailed, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
};

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fledge-build-test-'));
  run = createRunCommand({ PATH: process.env.PATH, HOME: tmp });
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('a plain tree is read recursively in sorted path order, multi-document, empty documents skipped', async () => {
  const root = await tree({
    'deploy/z-last/x.yml': cm('z'),
    'deploy/b.yaml': `${cm('b1')}---\n# only a comment\n---\n${cm('b2')}---\n`,
    'deploy/a.json': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a' } }),
    'deploy/README.md': 'not a manifest',
    'other/ignored-by-path.yaml': cm('elsewhere'),
  });
  const objs = await buildManifests({ root, path: './deploy', run });
  assert.deepEqual(names(objs), ['Secret/a', 'ConfigMap/b1', 'ConfigMap/b2', 'ConfigMap/z']);
  const all = await buildManifests({ root, path: '', run });
  assert.equal(all.length, 5, 'an empty path is the whole source');
});

test('a List is expanded into its items, each keeping its YAML for substitution', async () => {
  const root = await tree({
    'list.yaml': `apiVersion: v1\nkind: List\nitems:\n  - ${cm('one').replace(/\n/g, '\n    ')}\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: { name: two }\n    spec:\n      replicas: \${count}\n      note: "\${quoted}"\n`,
  });
  const docs = await buildDocuments({ root, path: '.', run });
  assert.deepEqual(names(docs.map((d) => d.object)), ['ConfigMap/one', 'Deployment/two']);
  assert.equal(docs[1]!.origin, 'list.yaml document 1 item 2');
  assert.match(docs[1]!.yaml, /replicas: \$\{count\}\n/, 'plain scalars stay plain');
  assert.match(docs[1]!.yaml, /note: "\$\{quoted\}"/, 'quoted scalars stay quoted');
});

test('a document that is not a complete object fails naming the file and document', async () => {
  const root = await tree({ 'apps/bad.yaml': `${cm('fine')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n` });
  await buildFails({ root, path: '.', run }, /apps\/bad\.yaml document 2: missing metadata\.name/);
  const scalar = await tree({ 'x.yaml': 'just a string\n' });
  await buildFails({ root: scalar, path: '.', run }, /x\.yaml document 1: must be a Kubernetes object/);
  const broken = await tree({ 'y.yaml': 'apiVersion: v1\nkind: [unclosed\n' });
  await buildFails({ root: broken, path: '.', run }, /y\.yaml document 1: invalid YAML/);
  const noKind = await tree({ 'z.yaml': 'apiVersion: v1\nmetadata: {name: x}\n' });
  await buildFails({ root: noKind, path: '.', run }, /z\.yaml document 1: missing kind/);
});

test('the same object twice fails naming both places', async () => {
  const root = await tree({
    'a.yaml': cm('dup', 'metadata_ns: x\n').replace('metadata:\n', 'metadata:\n  namespace: apps\n'),
    'b/c.yaml': `${cm('other')}---\n${cm('dup').replace('metadata:\n', 'metadata:\n  namespace: apps\n')}`,
  });
  await buildFails({ root, path: '.', run }, /duplicate object ConfigMap\/apps\/dup: defined in a\.yaml document 1 and in b\/c\.yaml document 2/);
  // Same name in another namespace or another kind is not a duplicate.
  const fine = await tree({ 'a.yaml': cm('x'), 'b.yaml': cm('x').replace('metadata:\n', 'metadata:\n  namespace: other\n'), 'c.yaml': cm('x').replace('ConfigMap', 'Secret') });
  assert.equal((await buildManifests({ root: fine, path: '.', run })).length, 3);
});

test('a path may not leave the source, directly or through a symlink', async () => {
  const root = await tree({ 'in/a.yaml': cm('a') });
  const outside = await tree({ 'secret.yaml': cm('leak') });
  await buildFails({ root, path: '../', run }, /outside the source root/);
  await buildFails({ root, path: 'in/../../x', run }, /outside the source root/);
  await symlink(outside, join(root, 'escape'));
  await buildFails({ root, path: 'escape', run }, /through a symlink/);
  await buildFails({ root, path: 'missing', run }, /does not exist/);
  await buildFails({ root, path: 'in/a.yaml', run }, /not a directory/);
  // A symlinked file inside a tree is not content, as in a source artifact.
  await symlink(join(outside, 'secret.yaml'), join(root, 'in', 'link.yaml'));
  assert.deepEqual(names(await buildManifests({ root, path: 'in', run })), ['ConfigMap/a']);
});

test('ignore rules and Flux default exclusions keep files out of the build', async () => {
  const root = await tree({
    '.gitlab-ci.yml': 'stages: [test]\n', // a Flux default exclusion: would not parse as an object
    '.github/workflows/ci.yaml': 'on: push\n',
    'top.yaml': cm('top'),
    'apps/top.yaml': cm('apps-top'),
    'apps/drafts/wip.yaml': cm('wip'),
    'apps/keep.txt.yaml': cm('keep'),
    'apps/skip.yaml': cm('skip'),
    'apps/deep/skip.yaml': cm('deep-skip'),
    'apps/x.yaml': cm('x'),
    'apps/y.yaml': cm('y'),
  });
  const ignore = ['# comments are fine', '/top.yaml', 'drafts/', '**/skip.yaml', '*.yaml', '!x.yaml', '!keep.txt.yaml', '!apps/top.yaml', ''].join('\n');
  assert.deepEqual(names(await buildManifests({ root, path: '.', run, ignore })).sort(), ['ConfigMap/apps-top', 'ConfigMap/keep', 'ConfigMap/x']);
  // Without user rules only the defaults apply.
  assert.equal((await buildManifests({ root, path: '.', run })).length, 8);
});

test('gitignore matching: anchoring, directories, ** and negation', () => {
  const m = compileIgnore(['/root-only.yaml', 'logs/', 'a/**/z.yaml', '*.tmp', '!keep.tmp', 'docs/*.md'].join('\n'));
  const cases: Array<[string, boolean, boolean]> = [
    ['root-only.yaml', false, true],
    ['sub/root-only.yaml', false, false],
    ['logs', true, true],
    ['logs/x.yaml', false, true],
    ['deep/logs/x.yaml', false, true],
    ['logs', false, false], // a file named logs is not the directory
    ['a/z.yaml', false, true],
    ['a/b/c/z.yaml', false, true],
    ['b/a/z.yaml', false, false],
    ['x/y.tmp', false, true],
    ['x/keep.tmp', false, false],
    ['docs/a.md', false, true],
    ['docs/sub/a.md', false, false],
  ];
  for (const [path, isDir, want] of cases) assert.equal(m(path, isDir), want, `${path}${isDir ? '/' : ''}`);
});

test('kustomize directories are built with the real kubectl', async (t) => {
  if (!existsSync(KUBECTL)) {
    t.skip(`kubectl not installed at ${KUBECTL}; run npm run tools`);
    return;
  }
  const root = await tree({
    'base/kustomization.yaml': 'resources:\n  - cm.yaml\n',
    'base/cm.yaml': cm('settings', 'data:\n  level: info\n'),
    'overlays/prod/kustomization.yaml': 'namePrefix: prod-\nresources:\n  - ../../base\nconfigMapGenerator:\n  - name: extra\n    literals: [a=b]\n',
    'plain/own.yaml': cm('own'),
    'plain/nested/Kustomization': 'resources: [s.yaml]\nnamespace: nested\n',
    'plain/nested/s.yaml': cm('from-nested'),
  });
  const docs = await buildDocuments({ root, path: 'overlays/prod', run, kubectl: KUBECTL });
  const built = names(docs.map((d) => d.object)).sort();
  assert.equal(built.length, 2);
  assert.match(built[0]!, /^ConfigMap\/prod-extra-[a-z0-9]{10}$/, 'the generator ran and hashed the name');
  assert.equal(built[1], 'ConfigMap/prod-settings', 'the base was included and prefixed');
  assert.deepEqual(docs.find((d) => d.object.metadata.name === 'prod-settings')!.object.data, { level: 'info' });
  assert.match(docs[0]!.origin, /^kustomize build of overlays\/prod document \d$/);

  // In a plain tree, a subdirectory with its own kustomization is built by kustomize as one unit.
  const plain = await buildManifests({ root, path: 'plain', run, kubectl: KUBECTL });
  assert.deepEqual(
    plain.map((o) => `${o.metadata.namespace ?? '-'}/${o.metadata.name}`),
    ['nested/from-nested', '-/own'],
  );
});

test('kustomize runs over the tree without ignored files', async (t) => {
  if (!existsSync(KUBECTL)) {
    t.skip(`kubectl not installed at ${KUBECTL}; run npm run tools`);
    return;
  }
  const root = await tree({
    'app/kustomization.yaml': 'resources:\n  - cm.yaml\n  - secret-draft.yaml\n',
    'app/cm.yaml': cm('cm'),
    'app/secret-draft.yaml': cm('draft'),
  });
  assert.equal((await buildManifests({ root, path: 'app', run, kubectl: KUBECTL })).length, 2);
  // Ignored, the file is not in the source kustomize sees, so the kustomization that names it fails.
  await buildFails({ root, path: 'app', run, kubectl: KUBECTL, ignore: '*-draft.yaml' }, /kubectl kustomize app failed.*secret-draft\.yaml/s);
});

test('kubectl errors and a missing kubectl are BuildFailed with a clear message', async (t) => {
  const root = await tree({ 'k/kustomization.yaml': 'resources:\n  - nope.yaml\n' });
  await buildFails({ root, path: 'k', run, kubectl: join(tmp, 'no-such-kubectl') }, /kubectl was not found .*no-such-kubectl.*builds the kustomization in k: install kubectl or put it on PATH/);
  if (!existsSync(KUBECTL)) {
    t.skip(`kubectl not installed at ${KUBECTL}; run npm run tools`);
    return;
  }
  await buildFails({ root, path: 'k', run, kubectl: KUBECTL }, /kubectl kustomize k failed \(exit code 1\): .*nope\.yaml/s);
});

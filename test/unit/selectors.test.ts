import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  labelSelectorFromObject,
  labelSelectorToString,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/localcluster/selectors.js';
import { ApiError } from '../../src/localcluster/errors.js';
import type { JsonObject } from '../../src/localcluster/types.js';

const badRequest = (text: string) => (e: unknown) =>
  e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message.includes(text);

const matches = (selector: string, labels: Record<string, string> | undefined): boolean =>
  matchesLabels(parseLabelSelector(selector), labels);

const primary = { app: 'podinfo-primary', tier: 'web', 'app.kubernetes.io/managed-by': 'fledge' };

test('equality requirements: =, == and !=', () => {
  assert.equal(matches('app=podinfo-primary', primary), true);
  assert.equal(matches('app==podinfo-primary', primary), true);
  assert.equal(matches('app=podinfo', primary), false);
  assert.equal(matches('app!=podinfo', primary), true);
  assert.equal(matches('app!=podinfo-primary', primary), false);
  // != and notin also match objects without the label at all.
  assert.equal(matches('missing!=x', primary), true);
  assert.equal(matches('app.kubernetes.io/managed-by=fledge', primary), true);
  assert.equal(matches('app=', { app: '' }), true);
  assert.equal(matches('app=', primary), false);
});

test('set-based requirements: in, notin, exists, !exists', () => {
  assert.equal(matches('tier in (web,api)', primary), true);
  assert.equal(matches('tier in (api)', primary), false);
  assert.equal(matches('tier notin (api, batch)', primary), true);
  assert.equal(matches('tier notin (web)', primary), false);
  assert.equal(matches('missing notin (web)', primary), true);
  assert.equal(matches('tier', primary), true);
  assert.equal(matches('missing', primary), false);
  assert.equal(matches('!missing', primary), true);
  assert.equal(matches('!tier', primary), false);
  assert.equal(matches('tier', undefined), false);
  assert.equal(matches('!tier', undefined), true);
});

test('comma is AND, whitespace is tolerated, empty selects everything', () => {
  assert.equal(matches(' app = podinfo-primary ,  tier in ( web , api ) , !canary ', primary), true);
  assert.equal(matches('app=podinfo-primary,tier=api', primary), false);
  assert.equal(matches('', primary), true);
  assert.equal(matches('   ', undefined), true);
  assert.deepEqual(parseLabelSelector('').requirements, []);
});

test('gt and lt compare integers', () => {
  assert.equal(matches('revision>3', { revision: '4' }), true);
  assert.equal(matches('revision>3', { revision: '3' }), false);
  assert.equal(matches('revision<3', { revision: '2' }), true);
  assert.equal(matches('revision<3', { revision: 'x' }), false);
  assert.throws(() => parseLabelSelector('revision>x'), badRequest('must be an integer'));
});

test('keywords are values where values are expected', () => {
  const parsed = parseLabelSelector('in in (in, notin),x=in');
  assert.deepEqual(parsed.requirements, [
    { key: 'in', operator: 'in', values: ['in', 'notin'] },
    { key: 'x', operator: '=', values: ['in'] },
  ]);
});

test('invalid syntax is a 400 naming the selector and the problem', () => {
  assert.throws(() => parseLabelSelector('app podinfo'), badRequest('"app podinfo"'));
  assert.throws(() => parseLabelSelector('app podinfo'), badRequest("found 'podinfo', expected: in, notin"));
  assert.throws(() => parseLabelSelector('app=a b'), badRequest("found 'b', expected: ',' or 'end of string'"));
  assert.throws(() => parseLabelSelector('app in (a b)'), badRequest("expected: ',' or ')'"));
  assert.throws(() => parseLabelSelector('app in a'), badRequest("expected: '('"));
  assert.throws(() => parseLabelSelector('app=x,'), badRequest('identifier after'));
  assert.throws(() => parseLabelSelector(',app'), badRequest('expected: !, identifier'));
  assert.throws(() => parseLabelSelector('-app=x'), badRequest('name part must consist of alphanumeric'));
  assert.throws(() => parseLabelSelector('Example.com/app=x'), badRequest('prefix part'));
  assert.throws(() => parseLabelSelector('app=-x'), badRequest('a valid label must be an empty string'));
  assert.throws(() => parseLabelSelector(`app=${'v'.repeat(64)}`), badRequest('no more than 63 characters'));
});

test('metav1.LabelSelector objects, and rendering for status.selector', () => {
  const selector = labelSelectorFromObject({
    matchLabels: { app: 'podinfo', tier: 'web' },
    matchExpressions: [
      { key: 'track', operator: 'NotIn', values: ['canary', 'beta'] },
      { key: 'env', operator: 'In', values: ['prod'] },
      { key: 'team', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  });
  const text = labelSelectorToString(selector);
  assert.equal(text, 'app=podinfo,env in (prod),!legacy,team,tier=web,track notin (beta,canary)');
  const labels = { app: 'podinfo', tier: 'web', env: 'prod', team: 'a', track: 'stable' };
  assert.equal(matchesLabels(selector, labels), true);
  assert.equal(matchesLabels(selector, { ...labels, track: 'canary' }), false);
  assert.equal(matchesLabels(selector, { ...labels, legacy: 'yes' }), false);
  // The rendered string parses back to the same selector.
  assert.deepEqual(parseLabelSelector(text), selector);
  assert.equal(labelSelectorToString({ matchLabels: { app: 'podinfo' } }), 'app=podinfo');
  assert.equal(labelSelectorToString({}), '');
  assert.equal(matchesLabels(labelSelectorFromObject({}), undefined), true);
  assert.throws(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }),
    badRequest('"Equals" is not a valid label selector operator'),
  );
  assert.throws(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    badRequest("values set can't be empty"),
  );
});

const pod = (name: string, phase: string, nodeName?: string): JsonObject => ({
  metadata: { name, namespace: 'test' },
  spec: nodeName ? { nodeName, replicas: 2 } : {},
  status: { phase },
});

test('field selectors on dotted paths; a missing field is the empty string', () => {
  const running = pod('web-1', 'Running', 'node-a');
  const pending = pod('web-2', 'Pending');
  const sel = parseFieldSelector('status.phase!=Running,metadata.namespace==test');
  assert.equal(matchesFields(sel, running), false);
  assert.equal(matchesFields(sel, pending), true);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName='), pending), true);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName='), running), false);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName=node-a'), running), true);
  assert.equal(matchesFields(parseFieldSelector('spec.replicas=2'), running), true);
  assert.equal(matchesFields(parseFieldSelector('metadata.name=web-1'), running), true);
  assert.equal(matchesFields(parseFieldSelector(''), running), true);
  const event: JsonObject = { involvedObject: { kind: 'Canary', name: 'podinfo' }, reason: 'Synced' };
  assert.equal(matchesFields(parseFieldSelector('involvedObject.kind=Canary,involvedObject.name=podinfo'), event), true);
  assert.equal(matchesFields(parseFieldSelector('involvedObject.name=other'), event), false);
});

test('field selector escapes and errors', () => {
  const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
  assert.deepEqual(sel.requirements, [{ field: 'metadata.name', operator: '=', value: 'a,b=c\\d' }]);
  assert.equal(matchesFields(sel, { metadata: { name: 'a,b=c\\d' } }), true);
  assert.throws(() => parseFieldSelector('metadata.name'), badRequest("invalid selector: 'metadata.name'; can't understand"));
  assert.throws(() => parseFieldSelector('=x'), badRequest("can't understand '=x'"));
  assert.throws(() => parseFieldSelector('metadata.name=a\\b'), badRequest('invalid escape sequence'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFledgeError, parseCanary } from '../../src/api/index.js';
import type { TemplateModel } from '../../src/analysis/templates.js';
import { compactQuery, renderQuery, templateModel } from '../../src/analysis/templates.js';

const model = (variables: Record<string, string> = {}, over: Partial<TemplateModel> = {}): TemplateModel => ({
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo',
  service: 'podinfo-svc',
  ingress: 'podinfo-ing',
  route: 'podinfo-route',
  interval: '1m',
  variables,
  ...over,
});

const renderError = (template: string, m: TemplateModel): string => {
  try {
    renderQuery(template, m);
  } catch (err) {
    assert.ok(isFledgeError(err, 'InvalidSpec'), `expected an InvalidSpec FledgeError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`rendering ${template} should have failed`);
};

test('the model follows Flagger: service, ingress and route fall back to the target', () => {
  const canary = parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'web', namespace: 'prod' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-app' },
      service: { port: 80 },
      analysis: { interval: '1m', stepWeight: 10, metrics: [] },
    },
  });
  const m = templateModel(canary, { interval: '2m', templateVariables: { a: 'b' } });
  assert.deepEqual(m, {
    name: 'web',
    namespace: 'prod',
    target: 'web-app',
    service: 'web-app',
    ingress: 'web-app',
    route: 'web-app',
    interval: '2m',
    variables: { a: 'b' },
  });
  const named = parseCanary({
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name: 'web', namespace: 'prod' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-app' },
      ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'web-ingress' },
      service: { port: 80, name: 'web-svc' },
      analysis: { interval: '1m', stepWeight: 10, metrics: [] },
    },
  });
  const n = templateModel(named, { interval: '1m', templateVariables: {} });
  assert.equal(n.service, 'web-svc');
  assert.equal(n.ingress, 'web-ingress');
});

test("Flagger's documented template renders every variable", () => {
  const template = `histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{
      namespace="{{ namespace }}", deployment=~"{{ target }}", direction="{{ variables.direction }}"
    }[{{ interval }}])) by (le)) + 0*{{name}}_{{service}}_{{ ingress }}_{{ route }}`;
  assert.equal(
    compactQuery(renderQuery(template, model({ direction: 'inbound' }))),
    'histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{ namespace="test", deployment=~"podinfo", direction="inbound" }[1m])) by (le)) + 0*podinfo_podinfo-svc_podinfo-ing_podinfo-route',
  );
});

test('printf, pipelines, index, literals, comments and trim markers work as in Go templates', () => {
  const m = model({ 'my-key': 'v1' });
  assert.equal(
    renderQuery('route=~"{{ printf "kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?" namespace ingress service }}"', m),
    'route=~"kube(ew)?_test__podinfo-ing_canary__.*__podinfo-svc_canary(_[0-9]+)?"',
  );
  assert.equal(renderQuery('x{"{{ target | printf "%s-canary" }}"}', m), 'x{"podinfo-canary"}');
  assert.equal(renderQuery('k="{{ index variables "my-key" }}"', m), 'k="v1"');
  assert.equal(renderQuery('a {{- " lit " -}} b', m), 'a lit b');
  assert.equal(renderQuery('a {{/* a comment */}}b', m), 'a b');
  assert.equal(renderQuery('100%% {{ printf "%d%%" interval }}', m), '100%% 1m%');
});

test('a missing variable is an error that names it', () => {
  const message = renderError('x{d="{{ variables.direction }}"}', model({ other: 'x' }));
  assert.match(message, /variables\.direction is not set/);
  assert.match(message, /templateVariables/);
  assert.match(renderError('{{ index variables "gone" }}', model()), /variables\.gone is not set/);
});

test('unknown functions and unsupported syntax are errors, never executed', () => {
  assert.match(renderError('{{ env "HOME" }}', model()), /function "env" not defined/);
  assert.match(renderError('{{ .Values.secret }}', model()), /unsupported syntax/);
  assert.match(renderError('{{ call target }}', model()), /function "call" not defined/);
  assert.match(renderError('{{ target "x" }}', model()), /takes no arguments/);
  assert.match(renderError('{{ printf "%x" target }}', model()), /unsupported verb %x/);
  assert.match(renderError('{{ printf "%s %s" target }}', model()), /missing argument/);
  assert.match(renderError('sum(x{{ target }', model()), /unclosed action/);
  // A value that looks like a template is data, not a second template.
  assert.equal(renderQuery('a="{{ variables.v }}"', model({ v: '{{ env "HOME" }}' })), 'a="{{ env \\"HOME\\" }}"');
});

test('hostile values cannot leave a double-quoted label matcher', () => {
  const template = 'sum(rate(http_requests_total{job="{{ variables.job }}",namespace="{{ namespace }}"}[1m]))';
  const hostile = 'x"} or vector(1) or up{job="';
  const rendered = renderQuery(template, model({ job: hostile }));
  assert.equal(rendered, 'sum(rate(http_requests_total{job="x\\"} or vector(1) or up{job=\\"",namespace="test"}[1m]))');
  // Backslashes are doubled, so a trailing backslash cannot swallow the closing quote.
  assert.equal(renderQuery(template, model({ job: 'a\\' })), 'sum(rate(http_requests_total{job="a\\\\",namespace="test"}[1m]))');
  assert.equal(
    renderQuery(template, model({ job: '\\"} or vector(1) #' })),
    'sum(rate(http_requests_total{job="\\\\\\"} or vector(1) #",namespace="test"}[1m]))',
  );
});

test('hostile values cannot leave single-quoted or raw strings', () => {
  assert.equal(renderQuery("x{a='{{ variables.v }}'}", model({ v: "it's" })), "x{a='it\\'s'}");
  assert.equal(renderQuery('x{a="{{ variables.v }}"}', model({ v: "it's" })), 'x{a="it\'s"}', 'a quote of the other kind is plain text');
  assert.match(renderError('x{a=`{{ variables.v }}`}', model({ v: 'a` or vector(1) or `' })), /backtick/);
  assert.equal(renderQuery('x{a=`{{ variables.v }}`}', model({ v: 'a"b\\c' })), 'x{a=`a"b\\c`}');
});

test('values with newlines or control characters are refused everywhere', () => {
  for (const v of ['a\nb', 'a\rb', 'a\u0000b', 'a\u2028b']) {
    assert.match(renderError('x{a="{{ variables.v }}"}', model({ v })), /must not contain newlines/);
    assert.match(renderError('x{a=`{{ variables.v }}`}', model({ v })), /must not contain newlines/);
  }
});

test('outside a string only a plain token is accepted', () => {
  assert.equal(renderQuery('histogram_quantile({{ variables.q }}, x)', model({ q: '0.99' })), 'histogram_quantile(0.99, x)');
  assert.equal(renderQuery('rate(x[{{ interval }}])', model()), 'rate(x[1m])');
  for (const q of ['0.99, vector(1)) or (x', '1 or up', 'a{b="c"}', 'x)', '1*0+1', '"quoted"']) {
    assert.match(renderError('histogram_quantile({{ variables.q }}, x)', model({ q })), /outside a quoted string/, q);
  }
});

test('quotes are followed through the template, escapes and printf formats included', () => {
  // The \" inside the string does not end it, so the value is still escaped for a string.
  assert.equal(renderQuery('x{a="b\\"{{ variables.v }}"}', model({ v: 'q"' })), 'x{a="b\\"q\\""}');
  // A printf format that closes the string puts its argument outside: plain tokens only.
  assert.match(renderError('x{a="{{ printf "\\" or %s" variables.v }}"}', model({ v: 'vector(1)' })), /outside a quoted string/);
  // A value placed right after a lone backslash would be partly escaped by it: refused.
  assert.match(renderError('x{a="b\\{{ variables.v }}"}', model({ v: 'n' })), /after a backslash/);
});

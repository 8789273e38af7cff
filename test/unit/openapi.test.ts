import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApiV2Document, openApiV3Document, openApiV3Index } from '../../src/localcluster/openapi.js';
import type { JsonObject, JsonValue, ResourceType } from '../../src/localcluster/types.js';
import { isJsonObject } from '../../src/localcluster/types.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const canarySchema: JsonObject = {
  description: 'Canary is the Schema for the Canary API.',
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: {
      description: 'CanarySpec defines the desired state of a Canary.',
      type: 'object',
      required: ['analysis'],
      properties: {
        analysis: {
          description: 'Canary analysis for this canary',
          type: 'object',
          oneOf: [{ required: ['stepWeight'] }, { required: ['iterations'] }],
          properties: {
            stepWeight: { type: 'number', nullable: true },
            metrics: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          },
        },
        values: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } },
      },
    },
  },
};

const canary = (schema: JsonObject = canarySchema): ResourceType => ({
  group: 'flagger.app',
  version: 'v1beta1',
  kind: 'Canary',
  listKind: 'CanaryList',
  plural: 'canaries',
  singular: 'canary',
  namespaced: true,
  shortNames: ['canary'],
  categories: ['all'],
  verbs: VERBS,
  subresources: ['status'],
  schema,
  printerColumns: [],
});

const builtin = (group: string, kind: string, plural: string, namespaced: boolean, subresources: string[] = []): ResourceType => ({
  group,
  version: 'v1',
  kind,
  listKind: `${kind}List`,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames: [],
  categories: [],
  verbs: VERBS,
  subresources,
});

const types = (): ResourceType[] => [
  canary(),
  builtin('apps', 'Deployment', 'deployments', true, ['status', 'scale']),
  builtin('', 'Namespace', 'namespaces', false, ['status']),
  builtin('', 'ConfigMap', 'configmaps', true),
];

const doc = (path: string, ts = types()): JsonObject => {
  const d = openApiV3Document(ts, path);
  assert.ok(d, `no document for ${path}`);
  return d;
};

const obj = (v: JsonValue | undefined): JsonObject => {
  assert.ok(isJsonObject(v), `expected an object, got ${JSON.stringify(v)}`);
  return v;
};

/** Follows `#/a/b` references the way kubectl explain's resolveRef does. */
const resolve = (document: JsonObject, ref: string): JsonObject | undefined => {
  let cur: JsonValue | undefined = document;
  for (const part of ref.replace(/^#\//, '').split('/')) cur = isJsonObject(cur) ? cur[part] : undefined;
  return isJsonObject(cur) ? cur : undefined;
};

const refsIn = (value: JsonValue): string[] =>
  Array.isArray(value)
    ? value.flatMap(refsIn)
    : isJsonObject(value)
      ? Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsIn(v)))
      : [];

/** Mimics kubectl explain's template: the GVK from the resource's paths, then the schema carrying it. */
const explainSchema = (document: JsonObject, prefix: string, plural: string): JsonObject => {
  const paths = obj(document.paths);
  const candidates = [`${prefix}/${plural}`, `${prefix}/${plural}/{name}`, `${prefix}/namespaces/{namespace}/${plural}`];
  let gvk: JsonValue | undefined;
  for (const p of candidates) {
    const item = paths[p];
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = isJsonObject(item) ? item[method] : undefined;
      if (gvk === undefined && isJsonObject(op)) gvk = op['x-kubernetes-group-version-kind'];
    }
  }
  assert.ok(isJsonObject(gvk), 'no operation carries x-kubernetes-group-version-kind');
  const schemas = obj(obj(document.components).schemas);
  const sameGvk = (g: JsonValue): boolean => isJsonObject(g) && ['group', 'version', 'kind'].every((k) => g[k] === gvk[k]) && Object.keys(g).length === 3;
  const found = Object.values(schemas).filter(
    (s) => isJsonObject(s) && Array.isArray(s['x-kubernetes-group-version-kind']) && s['x-kubernetes-group-version-kind'].some(sameGvk),
  );
  assert.equal(found.length, 1, `schemas for ${JSON.stringify(gvk)}`);
  return obj(found[0]);
};

test('the index lists every group-version with a hashed serverRelativeURL', () => {
  const index = openApiV3Index(types());
  const paths = obj(index.paths);
  assert.deepEqual(Object.keys(paths), ['api/v1', 'apis/apps/v1', 'apis/flagger.app/v1beta1']);
  const url = obj(paths['apis/flagger.app/v1beta1']).serverRelativeURL;
  assert.match(String(url), /^\/openapi\/v3\/apis\/flagger\.app\/v1beta1\?hash=[0-9A-F]{128}$/);
});

test('the hash changes when a schema changes and only then', () => {
  const url = (ts: ResourceType[]): string => String(obj(obj(openApiV3Index(ts).paths)['apis/flagger.app/v1beta1']).serverRelativeURL);
  const before = url(types());
  assert.equal(url([...types()].reverse()), before, 'registration order must not matter');
  const changed = structuredClone(canarySchema);
  obj(obj(changed.properties).spec).description = 'changed';
  assert.notEqual(url([canary(changed)]), before);
});

test('documents are found by path, with or without the /openapi/v3 prefix and hash', () => {
  assert.ok(openApiV3Document(types(), '/openapi/v3/apis/flagger.app/v1beta1?hash=ABC'));
  assert.ok(openApiV3Document(types(), 'api/v1'));
  assert.equal(openApiV3Document(types(), 'apis/nothing.here/v1'), undefined);
  assert.equal(doc('apis/apps/v1').openapi, '3.0.0');
});

test('CRD schemas are named with the reversed group and carry the GVK and ObjectMeta', () => {
  const d = doc('apis/flagger.app/v1beta1');
  const schemas = obj(obj(d.components).schemas);
  const schema = obj(schemas['app.flagger.v1beta1.Canary']);
  assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'flagger.app', kind: 'Canary', version: 'v1beta1' }]);
  const metadata = obj(obj(schema.properties).metadata);
  assert.deepEqual(metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  assert.ok(schemas['app.flagger.v1beta1.CanaryList']);
  // the CRD's own schema is carried as written
  assert.deepEqual(obj(obj(obj(schema.properties).spec).properties).analysis, obj(obj(obj(canarySchema.properties).spec).properties).analysis);
});

test('explain can find each kind and walk spec.analysis and metadata', () => {
  const d = doc('apis/flagger.app/v1beta1');
  const root = explainSchema(d, '/apis/flagger.app/v1beta1', 'canaries');
  const analysis = obj(obj(obj(obj(root.properties).spec).properties).analysis);
  assert.equal(analysis.description, 'Canary analysis for this canary');
  const metaRef = String(obj((obj(obj(root.properties).metadata).allOf as JsonValue[])[0]).$ref);
  const objectMeta = resolve(d, metaRef);
  assert.ok(objectMeta && isJsonObject(objectMeta.properties) && 'labels' in objectMeta.properties && 'name' in objectMeta.properties);

  const deployment = explainSchema(doc('apis/apps/v1'), '/apis/apps/v1', 'deployments');
  assert.equal(deployment['x-kubernetes-preserve-unknown-fields'], true);
  assert.ok(isJsonObject(obj(deployment.properties).spec));
  const namespace = explainSchema(doc('api/v1'), '/api/v1', 'namespaces');
  assert.deepEqual(namespace['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Namespace', version: 'v1' }]);
});

test('paths follow the apiserver layout, with list/watch on collections', () => {
  const paths = obj(doc('apis/flagger.app/v1beta1').paths);
  assert.deepEqual(Object.keys(paths), [
    '/apis/flagger.app/v1beta1/canaries',
    '/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries',
    '/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries/{name}',
    '/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries/{name}/status',
  ]);
  const collection = obj(paths['/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries']);
  assert.deepEqual(Object.keys(collection).filter((k) => k !== 'parameters').sort(), ['delete', 'get', 'post']);
  const list = obj(collection.get);
  assert.equal(list['x-kubernetes-action'], 'list');
  assert.ok((list.parameters as JsonObject[]).some((p) => p.name === 'watch'));
  const listRef = obj(obj(obj(obj(obj(list.responses)['200']).content)['application/json']).schema).$ref;
  assert.equal(listRef, '#/components/schemas/app.flagger.v1beta1.CanaryList');
  const pathParams = (collection.parameters as JsonObject[]).map((p) => `${String(p.in)}:${String(p.name)}`);
  assert.deepEqual(pathParams, ['path:namespace', 'query:pretty']);
});

test('every PATCH, POST and PUT lists fieldValidation; PATCH does not offer strategic merge', () => {
  for (const path of ['apis/flagger.app/v1beta1', 'apis/apps/v1', 'api/v1']) {
    const paths = obj(doc(path).paths);
    let patches = 0;
    for (const item of Object.values(paths)) {
      for (const method of ['patch', 'post', 'put']) {
        const op = obj(item)[method];
        if (!isJsonObject(op)) continue;
        const names = (op.parameters as JsonObject[]).map((p) => p.name);
        assert.ok(names.includes('fieldValidation'), `${path} ${method} lacks fieldValidation`);
        assert.ok(isJsonObject(op['x-kubernetes-group-version-kind']));
        if (method === 'patch') {
          patches += 1;
          const content = Object.keys(obj(obj(op.requestBody).content));
          assert.deepEqual(content, ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
        }
      }
    }
    assert.ok(patches > 0, `${path} has no PATCH`);
  }
});

test('the scale subresource uses autoscaling/v1 Scale', () => {
  const d = doc('apis/apps/v1');
  const scale = obj(obj(obj(d.paths)['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']).patch);
  assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  assert.ok(obj(obj(d.components).schemas)['io.k8s.api.autoscaling.v1.Scale']);
});

test('every $ref in the v3 documents resolves', () => {
  for (const path of ['apis/flagger.app/v1beta1', 'apis/apps/v1', 'api/v1']) {
    const d = doc(path);
    for (const ref of refsIn(d)) assert.ok(resolve(d, ref), `${path}: unresolved ${ref}`);
  }
});

test('the Swagger 2.0 document has definitions with GVKs, v2 refs, and no v3-only keywords', () => {
  const v2 = openApiV2Document(types());
  assert.equal(v2.swagger, '2.0');
  const definitions = obj(v2.definitions);
  const schema = obj(definitions['app.flagger.v1beta1.Canary']);
  assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'flagger.app', kind: 'Canary', version: 'v1beta1' }]);
  assert.ok(definitions['io.k8s.api.apps.v1.Deployment']);
  assert.ok(definitions['io.k8s.api.core.v1.Namespace']);
  for (const ref of refsIn(v2)) {
    assert.match(ref, /^#\/definitions\//);
    assert.ok(resolve(v2, ref), `unresolved ${ref}`);
  }
  const text = JSON.stringify(schema);
  assert.equal(text.includes('"oneOf"'), false);
  assert.equal(text.includes('"nullable"'), false);
  const values = obj(obj(obj(obj(schema.properties).spec).properties).values);
  assert.equal(values.properties, undefined, 'preserve-unknown-fields nodes lose their properties in v2');
  const patch = obj(obj(obj(v2.paths)['/apis/flagger.app/v1beta1/namespaces/{namespace}/canaries/{name}']).patch);
  assert.ok((patch.parameters as JsonObject[]).some((p) => p.name === 'fieldValidation' && p.in === 'query'));
  assert.ok((patch.parameters as JsonObject[]).some((p) => p.in === 'body'));
});

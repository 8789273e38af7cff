import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInfluxdbProvider } from '../../providers/metrics/influxdb.js';
import type { ProviderDeps } from '../../providers/metrics/types.js';
import { isFledgeError } from '../../src/api/index.js';
import type { FakeAnswer, RecordedRequest } from './support/fake-http.js';
import { expectFailure, manualClock, startFakeHttp } from './support/fake-http.js';
import { providerContract } from './support/provider-contract.js';

const TOKEN = 'influx-token-Zm9vYmFyYmF6cXV4cXV1eA==';
const ORG = 'fledge-org';
const SECRET = { token: TOKEN, org: ORG };
const FLUX = `from(bucket: "telegraf")
  |> range(start: -1m)
  |> filter(fn: (r) => r._measurement == "http" and r.app == "podinfo-canary")
  |> mean()`;

/** One annotated-CSV table as InfluxDB 2 writes it: annotations, header, rows, then a blank line. */
const annotatedCsv = (valueType: 'double' | 'long' | 'string', values: string[]): string =>
  [
    `#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,${valueType},string,string`,
    '#group,false,false,true,true,false,true,true',
    '#default,_result,,,,,,',
    ',result,table,_start,_stop,_value,_field,_measurement',
    ...values.map((value) => `,,0,2023-11-14T22:12:00Z,2023-11-14T22:13:00Z,${value},duration,http`),
    '',
    '',
  ].join('\r\n');

const FLUX_ERROR_CSV = [
  '#datatype,string,string',
  '#group,true,true',
  '#default,,',
  ',error,reference',
  ',"runtime error @3:6-3:80: filter: type error: undefined identifier r.nope",',
  '',
].join('\r\n');

/** InfluxDB 2's query endpoint: POST /api/v2/query?org=, token auth, a JSON body carrying the Flux. */
const influx = (answer: (flux: string) => FakeAnswer) => (request: RecordedRequest): FakeAnswer => {
  if (request.headers.authorization !== `Token ${TOKEN}`) {
    return { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } };
  }
  if (request.method !== 'POST' || request.path !== '/api/v2/query') return { status: 404, body: { code: 'not found', message: 'path not found' } };
  if (request.query.get('org') !== ORG) {
    return { status: 404, body: { code: 'not found', message: `organization name "${request.query.get('org')}" not found` } };
  }
  const { query } = JSON.parse(request.body) as { query?: string };
  if (!query) return { status: 400, body: { code: 'invalid', message: 'query cannot be empty' } };
  return answer(query);
};

const csv = (body: string): FakeAnswer => ({ body, headers: { 'Content-Type': 'text/csv; charset=utf-8' } });

const create = (address: string, deps: ProviderDeps, secret: Record<string, string> = SECRET) =>
  createInfluxdbProvider({ type: 'influxdb', address, secret, insecureSkipVerify: false }, deps);

test('influxdb: POST /api/v2/query?org= with the Flux and a Token header; the first _value is the value', async () => {
  const fake = await startFakeHttp(influx(() => csv(annotatedCsv('double', ['0.125', '7']))));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(FLUX, { intervalMs: 60_000 }), 0.125);
    const [request] = fake.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/api/v2/query');
    assert.equal(request?.query.get('org'), ORG);
    assert.equal(request?.headers.authorization, `Token ${TOKEN}`);
    const body = JSON.parse(request?.body ?? '{}') as { query?: string; type?: string };
    assert.equal(body.query, FLUX);
    assert.equal(body.type, 'flux');
  } finally {
    await fake.close();
  }
});

test('influxdb: an integer (long) _value is a value too (Flagger rejects it)', async () => {
  const fake = await startFakeHttp(influx(() => csv(annotatedCsv('long', ['42']))));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).runQuery(FLUX, { intervalMs: 60_000 }), 42);
  } finally {
    await fake.close();
  }
});

test('influxdb: no record, an empty answer or a null _value is NoValues (Flagger answers 0)', async () => {
  for (const body of [annotatedCsv('double', []), '\r\n', annotatedCsv('double', [''])]) {
    const fake = await startFakeHttp(influx(() => csv(body)));
    try {
      await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(FLUX, { intervalMs: 60_000 }), 'NoValues');
    } finally {
      await fake.close();
    }
  }
});

test('influxdb: a Flux error table, a compile error (400) or a string _value is InvalidResponse', async () => {
  const answers: FakeAnswer[] = [
    csv(FLUX_ERROR_CSV),
    { status: 400, body: { code: 'invalid', message: 'compilation failed: error @1:1-1:5: undefined identifier frm' } },
    csv(annotatedCsv('string', ['fast'])),
  ];
  for (const answer of answers) {
    const fake = await startFakeHttp(influx(() => answer));
    try {
      await expectFailure(create(fake.url, { clock: manualClock() }).runQuery(FLUX, { intervalMs: 60_000 }), 'InvalidResponse', [TOKEN]);
    } finally {
      await fake.close();
    }
  }
});

test('influxdb: an unknown organisation is ProviderUnavailable without the token in the message', async () => {
  const fake = await startFakeHttp(influx(() => csv(annotatedCsv('double', ['1']))));
  try {
    const provider = create(fake.url, { clock: manualClock() }, { token: TOKEN, org: 'other-org' });
    const error = await expectFailure(provider.runQuery(FLUX, { intervalMs: 60_000 }), 'ProviderUnavailable', [TOKEN]);
    assert.match(error.message, /404/);
  } finally {
    await fake.close();
  }
});

test('influxdb: isOnline runs a bucket-free Flux query with the same credentials', async () => {
  const fake = await startFakeHttp(influx(() => csv(annotatedCsv('long', ['1']))));
  try {
    assert.equal(await create(fake.url, { clock: manualClock() }).isOnline({}), true);
    const { query } = JSON.parse(fake.requests[0]?.body ?? '{}') as { query?: string };
    assert.match(query ?? '', /array\.from/);
    assert.doesNotMatch(query ?? '', /bucket/);
    assert.equal(await create(fake.url, { clock: manualClock() }, { token: 'wrong', org: ORG }).isOnline({}), false);
  } finally {
    await fake.close();
  }
});

test('influxdb: an address is required', () => {
  assert.throws(
    () => createInfluxdbProvider({ type: 'influxdb', secret: SECRET, insecureSkipVerify: false }, { clock: manualClock() }),
    (err) => isFledgeError(err, 'InvalidSpec') && /spec\.provider\.address/.test(err.message),
  );
});

providerContract({
  name: 'influxdb',
  secrets: [TOKEN],
  create: (address, deps) => create(address, deps),
  query: FLUX,
  malformed: csv(['#datatype,string,long,double', '#group,false,false,false', '#default,_result,,', ',result,table,_other', ',,0,1', ''].join('\r\n')),
});

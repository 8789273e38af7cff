/**
 * InfluxDB 2 Flux queries through @influxdata/influxdb-client's QueryApi (`POST /api/v2/query?org=`,
 * answered in annotated CSV). The token and organisation come from the Secret keys `token` and `org`,
 * as in Flagger. The value is the `_value` of the first record.
 * Fixed over Flagger: a query that yields no record is NoValues (Flagger answers 0, which can promote a
 * canary that produced no data at all), and integer (`long`) values are accepted, not rejected.
 */
import { HttpError, InfluxDB, RequestTimedOutError } from '@influxdata/influxdb-client';
import type { Cancellable, FluxTableMetaData, QueryApi } from '@influxdata/influxdb-client';
import { FledgeError } from '../../src/api/index.js';
import type { MetricProvider, MetricProviderFactory, ProviderConfig, ProviderDeps } from './types.js';
import type { Deadline } from './http-json.js';
import { DEFAULT_TIMEOUT_MS, invalidResponse, maskSecrets, noValues, requireAddress, startDeadline } from './http-json.js';

export const INFLUXDB_TOKEN_KEY = 'token';
export const INFLUXDB_ORG_KEY = 'org';

/**
 * Liveness: a query that needs no bucket, so it checks the address, token and organisation only
 * (Flagger reads bucket "default", which fails on servers that have no such bucket).
 */
const ONLINE_FLUX = 'import "array"\narray.from(rows: [{_value: 1}])';

type FirstRecord = Record<string, unknown> | undefined;

/** The FledgeError for a failed query, its message free of secrets. */
const failure = (config: ProviderConfig, err: unknown): FledgeError => {
  if (err instanceof FledgeError) return err;
  let error: FledgeError;
  if (err instanceof HttpError) {
    const detail = `influxdb answered ${err.statusCode}: ${(err.body ?? err.message).slice(0, 200)}`;
    error =
      err.statusCode === 400 || err.statusCode === 422
        ? new FledgeError('InvalidResponse', `${detail} (the query was rejected)`)
        : new FledgeError('ProviderUnavailable', detail);
  } else if (err instanceof RequestTimedOutError) {
    error = new FledgeError('ProviderUnavailable', 'influxdb did not answer in time');
  } else {
    const code = (err as { code?: unknown } | null)?.code;
    const message = err instanceof Error ? err.message : String(err);
    error = new FledgeError(
      'ProviderUnavailable',
      `influxdb request failed: ${typeof code === 'string' ? `${code} ` : ''}${message}`,
    );
  }
  return new FledgeError(error.code, maskSecrets(config, error.message));
};

/** The first record of a query as an object keyed by column, or undefined when there is none. */
const firstRecord = (api: QueryApi, flux: string, deadline: Deadline, config: ProviderConfig): Promise<FirstRecord> =>
  new Promise<FirstRecord>((resolve, reject) => {
    let cancellable: Cancellable | undefined;
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      deadline.signal.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () => {
      settle(() => reject(deadline.reason()));
      cancellable?.cancel();
    };
    deadline.signal.addEventListener('abort', onAbort, { once: true });
    api.queryRows(flux, {
      next(values: string[], tableMeta: FluxTableMetaData) {
        let record: FirstRecord;
        try {
          record = tableMeta.toObject(values);
        } catch (err) {
          settle(() => reject(invalidResponse('influxdb', `a record that does not parse: ${String(err)}`)));
          return;
        }
        settle(() => resolve(record));
        // Only the first record matters: stop reading the rest of the answer.
        cancellable?.cancel();
      },
      error: (err: Error) => settle(() => reject(failure(config, err))),
      complete: () => settle(() => resolve(undefined)),
      useCancellable(handle: Cancellable) {
        cancellable = handle;
        if (settled) handle.cancel();
      },
    });
    if (deadline.signal.aborted) onAbort();
  });

/** `_value` as a number; Flux errors reported inside a 200 answer are InvalidResponse. */
export const valueOf = (record: Record<string, unknown>, query: string): number => {
  if (typeof record.error === 'string' && record.error !== '') {
    throw invalidResponse('influxdb', `a query error: ${record.error}`);
  }
  if (!('_value' in record)) throw invalidResponse('influxdb', 'a first record without a "_value" column');
  const value = record._value;
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
    throw noValues('influxdb', query);
  }
  if (typeof value !== 'number') throw invalidResponse('influxdb', `a "_value" that is not a number: ${String(value)}`);
  return value;
};

export const createInfluxdbProvider: MetricProviderFactory = (
  config: ProviderConfig,
  deps: ProviderDeps,
): MetricProvider => {
  const address = requireAddress(config);
  const token = config.secret[INFLUXDB_TOKEN_KEY]?.trim();
  const org = config.secret[INFLUXDB_ORG_KEY]?.trim() ?? '';
  const client = new InfluxDB({
    url: address,
    ...(token ? { token } : {}),
    // The injected clock is the deadline; the client's own timer is only a backstop in real time.
    timeout: 2 * (deps.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    ...(config.headers ? { headers: config.headers } : {}),
    ...(config.insecureSkipVerify ? { transportOptions: { rejectUnauthorized: false } } : {}),
  });
  const queryApi = client.getQueryApi(org);

  const query = async (flux: string, signal?: AbortSignal): Promise<FirstRecord> => {
    const deadline = startDeadline('influxdb', deps, signal);
    try {
      return await firstRecord(queryApi, flux, deadline, config);
    } finally {
      deadline.release();
    }
  };

  return {
    type: 'influxdb',

    async runQuery(flux, opts) {
      const record = await query(flux, opts.signal);
      if (!record) throw noValues('influxdb', flux);
      return valueOf(record, flux);
    },

    async isOnline({ signal }) {
      try {
        return (await query(ONLINE_FLUX, signal)) !== undefined;
      } catch {
        return false;
      }
    },
  };
};

/**
 * What a Prometheus HTTP API answer means for an analysis check, as pure functions over the decoded
 * JSON body and the HTTP status: one number, NoValues, InvalidResponse or ProviderUnavailable. Kept
 * apart from the transport (prometheus.ts) so every rule is testable without a server.
 */
import { FledgeError } from '../../src/api/index.js';

export interface TimedValue {
  timeMs: number;
  value: number;
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

const invalid = (message: string): FledgeError => new FledgeError('InvalidResponse', message);

/** At most `max` characters, so a huge answer or query cannot flood a status condition. */
export const clip = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/** The `data` of a successful API answer: `{status: "success", data: {resultType, result}}`. */
const dataOf = (body: unknown): { resultType: unknown; result: unknown } => {
  if (!isFields(body) || body.status !== 'success' || !isFields(body.data)) {
    throw invalid('the answer is not a Prometheus API success body ({"status":"success","data":{...}})');
  }
  return { resultType: body.data.resultType, result: body.data.result };
};

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
const sampleValue = (pair: unknown): { timeMs: number; value: number } => {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string') {
    throw invalid('a sample is not a [time, "value"] pair');
  }
  const text = pair[1];
  const value = text === '+Inf' || text === 'Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? NaN : Number(text);
  if (text.trim() === '' || (Number.isNaN(value) && text !== 'NaN')) throw invalid(`a sample value is not a number: ${clip(JSON.stringify(text), 60)}`);
  return { timeMs: Math.round(pair[0] * 1000), value };
};

const labelsOf = (series: unknown): string => {
  const metric = isFields(series) && isFields(series.metric) ? series.metric : {};
  return `{${Object.entries(metric).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
};

const severalSeries = (series: unknown[]): FledgeError => {
  const shown = series.slice(0, 3).map(labelsOf).join(', ');
  const more = series.length > 3 ? `, and ${series.length - 3} more` : '';
  return invalid(`expected one series, got ${series.length}: ${shown}${more}; aggregate them (e.g. sum(...)) to one value`);
};

const noValues = (query: string): FledgeError => new FledgeError('NoValues', `no values found for query ${clip(query, 200)}`);

/**
 * The one value of an instant query. An empty vector or NaN (0/0, e.g. a success rate without traffic)
 * is NoValues; several series, a range vector or a string is InvalidResponse.
 */
export const instantValue = (body: unknown, query: string): number => {
  const { resultType, result } = dataOf(body);
  let value: number;
  if (resultType === 'scalar') {
    value = sampleValue(result).value;
  } else if (resultType === 'vector') {
    if (!Array.isArray(result)) throw invalid('a vector result is not a list');
    if (result.length === 0) throw noValues(query);
    if (result.length > 1) throw severalSeries(result);
    const series: unknown = result[0];
    value = sampleValue(isFields(series) ? series.value : undefined).value;
  } else if (resultType === 'matrix') {
    throw invalid('the query returns a range vector (matrix); an analysis query must return one instant value, e.g. sum(rate(metric[1m]))');
  } else {
    throw invalid(`expected a vector or scalar result, got ${clip(JSON.stringify(resultType) ?? 'none', 40)}`);
  }
  if (Number.isNaN(value)) throw noValues(query);
  return value;
};

/** The points of a range query (one series); NaN points are dropped like absent ones. */
export const rangeValues = (body: unknown, query: string): TimedValue[] => {
  const { resultType, result } = dataOf(body);
  if (resultType !== 'matrix') throw invalid(`expected a matrix result from query_range, got ${clip(JSON.stringify(resultType) ?? 'none', 40)}`);
  if (!Array.isArray(result)) throw invalid('a matrix result is not a list');
  if (result.length > 1) throw severalSeries(result);
  const series: unknown = result[0];
  const values = isFields(series) ? series.values : [];
  if (!Array.isArray(values)) throw invalid('a matrix series has no list of values');
  const points = values.map(sampleValue).filter((p) => !Number.isNaN(p.value));
  if (points.length === 0) throw noValues(query);
  return points;
};

/** Prometheus' own words for a failure (`bad_data: parse error ...`), never any other body text. */
const apiError = (body: unknown): string => {
  if (!isFields(body) || typeof body.error !== 'string') return '';
  const kind = typeof body.errorType === 'string' ? `${body.errorType}: ` : '';
  return `: ${clip(kind + body.error)}`;
};

/**
 * A non-2xx answer. 400 and 422 are Prometheus rejecting the query itself (parse or execution
 * error): InvalidResponse. Everything else (auth, rate limits, missing API, 5xx) is ProviderUnavailable.
 */
export const httpFailure = (status: number, body: unknown): FledgeError => {
  if (status === 400 || status === 422) return invalid(`rejected the query (HTTP ${status}${apiError(body)})`);
  if (status === 401 || status === 403) {
    return new FledgeError('ProviderUnavailable', `refused the credentials (HTTP ${status}); check the secret's token or username and password`);
  }
  if (status === 404) return new FledgeError('ProviderUnavailable', 'has no Prometheus API at this address (HTTP 404)');
  return new FledgeError('ProviderUnavailable', `answered HTTP ${status}${apiError(body)}`);
};

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A request that got no answer: refused, reset, unresolvable, or a certificate not trusted. */
export const networkFailure = (code: string | undefined, message: string): FledgeError => {
  const hint = code !== undefined && TLS_CODES.has(code) ? ' (set spec.provider.insecureSkipVerify to accept this certificate)' : '';
  return new FledgeError('ProviderUnavailable', `request failed: ${clip(message, 200)}${hint}`);
};

/** The address as it may be shown: no user info, query or fragment. */
export const displayAddress = (address: string): string => {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '<invalid address>';
  }
};

/** The message with every secret value blanked, a last guard for texts quoted from elsewhere. */
export const redact = (message: string, secrets: readonly string[]): string =>
  secrets.filter((s) => s.length >= 4).reduce((text, secret) => text.split(secret).join('[redacted]'), message);

/**
 * Cell formatting shared by the Table printers, matching the apiserver's printers: ages as short
 * human durations (`5m`, `3h12m`, `2d`), label maps and selectors as `k=v,k2 in (a,b)`.
 */
import type { JsonObject, JsonValue } from './types.js';
import { isJsonObject } from './types.js';

export interface ColumnDefinition extends JsonObject {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export const column = (name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});

export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. It is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.';
export const CREATION_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created, in RFC 3339 form and UTC.';

export const nameColumn = (): ColumnDefinition => column('Name', 'string', NAME_DESCRIPTION, 0, 'name');
export const ageColumn = (): ColumnDefinition => column('Age', 'string', CREATION_DESCRIPTION);

/** apimachinery's duration.HumanDuration: ~2-3 significant figures, tolerant of 1s clock skew. */
export const humanDuration = (ms: number): string => {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
};

/** RFC 3339 timestamps as metav1.Time reads them; NaN when unparseable. */
export const parseTimestamp = (value: string): number =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) ? Date.parse(value) : NaN;

/** The printers' translateTimestampSince: `<unknown>` for a missing time. */
export const since = (timestamp: JsonValue | undefined, now: number): string => {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = parseTimestamp(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
};

/** labels.FormatLabels: `k=v` pairs sorted by key, `<none>` when empty. */
export const formatLabels = (labels: JsonValue | undefined): string => {
  if (!isJsonObject(labels)) return '<none>';
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${String(labels[k])}`);
  return pairs.length > 0 ? pairs.join(',') : '<none>';
};

/** metav1.FormatLabelSelector: requirements sorted by key, `<none>` for an empty or missing selector. */
export const formatLabelSelector = (selector: JsonValue | undefined): string => {
  if (!isJsonObject(selector)) return '<none>';
  const requirements: Array<[string, string]> = [];
  if (isJsonObject(selector.matchLabels)) {
    for (const [k, v] of Object.entries(selector.matchLabels)) requirements.push([k, `${k}=${String(v)}`]);
  }
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isJsonObject) : [];
  for (const e of expressions) {
    const key = String(e.key ?? '');
    const values = (Array.isArray(e.values) ? e.values.map(String) : []).sort().join(',');
    const text =
      e.operator === 'In'
        ? `${key} in (${values})`
        : e.operator === 'NotIn'
          ? `${key} notin (${values})`
          : e.operator === 'DoesNotExist'
            ? `!${key}`
            : key;
    requirements.push([key, text]);
  }
  if (requirements.length === 0) return '<none>';
  return requirements
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, text]) => text)
    .join(',');
};

/** Reads `obj.a.b.c`, undefined when any step is missing. */
export const at = (obj: JsonValue | undefined, ...path: string[]): JsonValue | undefined => {
  let cur: JsonValue | undefined = obj;
  for (const key of path) cur = isJsonObject(cur) ? cur[key] : undefined;
  return cur;
};

export const str = (value: JsonValue | undefined, fallback = ''): string =>
  typeof value === 'string' && value !== '' ? value : fallback;

export const int = (value: JsonValue | undefined, fallback = 0): number =>
  typeof value === 'number' ? Math.trunc(value) : fallback;

export const list = (value: JsonValue | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isJsonObject) : []);

export const count = (value: JsonValue | undefined): number => (isJsonObject(value) ? Object.keys(value).length : 0);

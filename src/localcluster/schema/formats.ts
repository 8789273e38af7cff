/**
 * String formats the apiserver checks on custom resources (kube-openapi's strfmt registry, restricted to
 * the formats CRDs may use). Checks are deliberately loose approximations of the Go parsers; unknown
 * formats, and numeric ones such as int32/int64/double, are not checked at all — kube-apiserver does
 * not range-check them either.
 */
import { isIPv4, isIPv6 } from 'node:net';

const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$/;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const hostnamePattern =
  /^(?=.{1,255}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const emailPattern = /^[^\s@]+@[^\s@]+$/;
const macPattern = /^(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const durationPattern = /^(?:\s*[-+]?\d+(?:\.\d+)?\s*[a-zµ]+\s*)+$/i;
const uriPattern = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:\S*|\/\S*)$/;

const validCalendarDate = (year: string, month: string, day: string): boolean => {
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  const daysInMonth = new Date(Date.UTC(Number(year), m, 0)).getUTCDate();
  return d <= daysInMonth;
};

const isDateTime = (v: string): boolean => {
  const m = dateTimePattern.exec(v);
  return m !== null && validCalendarDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') && Number(m[4]) < 24 && Number(m[5]) < 60;
};

const checks: Record<string, (value: string) => boolean> = {
  'date-time': isDateTime,
  datetime: isDateTime,
  date: (v) => {
    const m = datePattern.exec(v);
    return m !== null && validCalendarDate(m[1] ?? '', m[2] ?? '', m[3] ?? '');
  },
  byte: (v) => base64Pattern.test(v),
  uuid: (v) => uuidPattern.test(v),
  uuid3: (v) => uuidPattern.test(v),
  uuid4: (v) => uuidPattern.test(v),
  uuid5: (v) => uuidPattern.test(v),
  ipv4: (v) => isIPv4(v),
  ipv6: (v) => isIPv6(v),
  cidr: (v) => {
    const [ip = '', prefix, ...rest] = v.split('/');
    if (prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
    const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
    return Number(prefix) <= max;
  },
  mac: (v) => macPattern.test(v),
  hostname: (v) => hostnamePattern.test(v),
  email: (v) => emailPattern.test(v),
  uri: (v) => uriPattern.test(v),
  duration: (v) => durationPattern.test(v),
  password: () => true,
};

/** Whether `value` fits `format`; undefined when the format is not one the apiserver checks. */
export const checkFormat = (format: string, value: string): boolean | undefined => {
  const check = checks[format];
  return check ? check(value) : undefined;
};

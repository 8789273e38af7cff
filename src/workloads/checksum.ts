/**
 * Checksums: the revision of a target (pod template plus tracked configs) and of one ConfigMap or
 * Secret. The config checksum is byte-compatible with Flagger's (sha256 of Go's JSON encoding of the
 * data map, first 8 bytes in hex), so a Canary migrated from Flagger keeps its status.trackedConfigs
 * and does not start a spurious analysis.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, isMap } from './json.js';

/** sha256 of the text, first 8 bytes as 16 hex digits (Flagger's length). */
export const shortSha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

// Go's encoding/json escapes these for HTML safety; JSON.stringify does not.
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's json.Marshal of a map of strings: keys sorted, HTML characters escaped; a missing map is `null`. */
export const goJsonOfStringMap = (data: unknown): string => {
  if (!isMap(data)) return 'null';
  const entries = Object.keys(data)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(String(data[key]))}`);
  return `{${entries.join(',')}}`.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
};

/** The checksum Flagger records for a ConfigMap's or Secret's `data`. */
export const configDataChecksum = (data: unknown): string => shortSha(goJsonOfStringMap(data));

/**
 * The revision of a target: its pod template (or Service spec) and the checksums of its tracked
 * configs. Any change to either gives a new value; key order never matters.
 */
export const revisionChecksum = (template: unknown, trackedConfigs: Record<string, string>): string =>
  shortSha(canonicalJson({ template, configs: trackedConfigs }));

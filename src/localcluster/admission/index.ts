/**
 * Admission: what happens to an object between the request body and the store. Built-in kinds get
 * their defaults and checks; custom resources get their CRD schema's pruning, defaults and validation.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, invalid } from '../errors.js';
import type { StatusCause } from '../errors.js';
import type { JsonObject, KubeObject, ResourceType } from '../types.js';
import { applyDefaults, pruneUnknownFields, validateObject } from '../schema/index.js';
import { defaultBuiltin, validateBuiltin, validateName } from './builtin.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface AdmissionResult {
  object: KubeObject;
  warnings: string[];
}

const groupSuffix = (t: ResourceType): string => (t.group ? `.${t.group}` : '');

export class Admission {
  private nextIp = 10;
  constructor(private readonly ipPrefix = '10.96.0.') {}

  private allocateIp = (): string => {
    const n = this.nextIp++;
    return `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`.replace(/^10\.96\.0\./, this.ipPrefix);
  };

  /** Defaults, prunes and validates `object` (a private copy, mutated). Throws 422/400 on bad input. */
  admit(type: ResourceType, object: KubeObject, current: KubeObject | undefined, validation: FieldValidation): AdmissionResult {
    const warnings: string[] = [];
    const name = object.metadata.name ?? object.metadata.generateName ?? '';
    const causes: StatusCause[] = current ? [] : validateName(object.metadata.name, object.metadata.generateName);
    let result = object;
    if (type.schema) {
      const { pruned, unknown } = pruneUnknownFields(object as unknown as JsonObject, type.schema);
      if (unknown.length && validation === 'Strict') {
        throw new ApiError(
          'BadRequest',
          `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown
            .map((f) => `unknown field "${f}"`)
            .join(', ')}`,
        );
      }
      if (validation === 'Warn') for (const f of unknown) warnings.push(`unknown field "${f}"`);
      result = applyDefaults(pruned, type.schema) as unknown as KubeObject;
      causes.push(...validateObject(result as unknown as JsonObject, type.schema));
    } else {
      defaultBuiltin(result, this.allocateIp, current);
      causes.push(...validateBuiltin(result, current));
    }
    if (causes.length) throw invalid(type.kind, name, type.group, causes);
    return { object: result, warnings };
  }
}

/** Fresh identity for a created object: uid, timestamps, generated name. */
export const stampNew = (o: KubeObject, nowRfc3339: string, hasGeneration: boolean): void => {
  const m = o.metadata;
  if (!m.name && m.generateName) m.name = m.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
  m.uid = randomUUID();
  m.creationTimestamp = nowRfc3339;
  delete m.deletionTimestamp;
  delete m.resourceVersion;
  if (hasGeneration) m.generation = 1;
  else delete m.generation;
};

export const describe = (t: ResourceType, name: string): string => `${t.plural}${groupSuffix(t)} "${name}"`;

/**
 * `meta.k8s.io/v1` Table responses (what `kubectl get` asks for with `Accept: ...;as=Table`).
 *
 * Custom resources follow apiextensions-apiserver's table convertor: a Name column, then the CRD's
 * additionalPrinterColumns as written (priority kept, so `-o wide` reveals priority > 0), or a lone Age
 * column when the CRD defines none. Cells are rendered by the server: `date` columns become ages
 * (`5m`), `string` columns print through JSONPath (lists and maps as compact JSON, e.g. `[1,2,10,80]`),
 * integer/number/boolean columns keep the JSON value, and anything absent or mistyped is null (kubectl
 * shows `<none>`). Built-in kinds use the printers in table-builtins.ts.
 */
import type { JsonObject, JsonValue, KubeObject, PrinterColumn, ResourceType } from './types.js';
import type { Printer } from './table-builtins.js';
import type { ColumnDefinition } from './table-cells.js';
import { evaluate, parseJsonPath } from './jsonpath.js';
import { goJson, goPrint } from './schema/gofmt.js';
import { builtinPrinter } from './table-builtins.js';
import { CREATION_DESCRIPTION, column, humanDuration, nameColumn, parseTimestamp } from './table-cells.js';

export interface TableOptions {
  /** What each row carries besides its cells; kubectl asks for Metadata. */
  includeObject: 'None' | 'Metadata' | 'Object';
  /** The list's metadata; for a single object, its resourceVersion is used when this is absent. */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Milliseconds since the epoch: ages are computed on the server, as kube-apiserver does. */
  now: number;
  /** Leave out columnDefinitions (TableOptions.noHeaders). */
  noHeaders?: boolean;
}

const DEFAULT_CRD_COLUMNS: PrinterColumn[] = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: CREATION_DESCRIPTION },
];

const isCustom = (type: ResourceType): boolean => type.schema !== undefined || type.printerColumns !== undefined;

/** The apiextensions cellForJSONValue, plus the JSONPath printing of `string` columns. */
const crdCell = (columnType: string, value: JsonValue, now: number): JsonValue => {
  if (value === null) return null;
  switch (columnType) {
    case 'string':
      return Array.isArray(value) || typeof value === 'object' ? goJson(value) : goPrint(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '' || value === 'null') return '<unknown>';
      const t = parseTimestamp(value);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
    }
    default:
      return null;
  }
};

const customPrinter = (printerColumns: PrinterColumn[] | undefined): Printer => {
  const defined = printerColumns && printerColumns.length > 0 ? printerColumns : DEFAULT_CRD_COLUMNS;
  const paths = defined.map((c) => {
    try {
      return parseJsonPath(c.jsonPath);
    } catch {
      return undefined; // the apiserver rejects such CRDs; a column we cannot read shows <none>
    }
  });
  const columns: ColumnDefinition[] = [
    nameColumn(),
    ...defined.map((c) =>
      column(
        c.name,
        c.type,
        c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        c.priority ?? 0,
        c.format ?? '',
      ),
    ),
  ];
  return {
    columns,
    cells: (obj, now) => {
      const metadata = obj.metadata;
      const name = typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? metadata.name : undefined;
      const cells: JsonValue[] = [typeof name === 'string' ? name : ''];
      defined.forEach((c, i) => {
        const path = paths[i];
        const first = path ? evaluate(obj, path)[0] : undefined;
        cells.push(first === undefined ? null : crdCell(c.type, first, now));
      });
      return cells;
    },
  };
};

/** The printer `toTable` uses for a resource type, exposed so the columns can be inspected. */
export const printerFor = (type: ResourceType): Printer =>
  isCustom(type) ? customPrinter(type.printerColumns) : builtinPrinter(type.group, type.kind);

const rowObject = (obj: KubeObject, includeObject: TableOptions['includeObject']): JsonObject | undefined => {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj as unknown as JsonObject;
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: obj.metadata as unknown as JsonObject,
  };
};

/** Builds the Table for `objects` (a list, or a single object as a one-row table). */
export const toTable = (type: ResourceType, objects: KubeObject[], opts: TableOptions): JsonObject => {
  const printer = printerFor(type);
  const rows = objects.map((obj): JsonObject => {
    const row: JsonObject = { cells: printer.cells(obj as unknown as JsonObject, opts.now) };
    const object = rowObject(obj, opts.includeObject);
    if (object) row.object = object;
    return row;
  });
  const single = objects.length === 1 ? objects[0]?.metadata.resourceVersion : undefined;
  const meta = opts.listMeta ?? (single !== undefined ? { resourceVersion: single } : {});
  const metadata: JsonObject = {};
  if (meta.resourceVersion) metadata.resourceVersion = meta.resourceVersion;
  if (meta.continue) metadata.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) metadata.remainingItemCount = meta.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows,
  };
};

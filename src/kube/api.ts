/**
 * The narrow Kubernetes API the controller, workloads and routers use. One implementation talks to a
 * real API server through @kubernetes/client-node (client.ts); tests use the same one against the local
 * cluster. Reads may be served from watch-fed caches (see the controller), so callers never assume a
 * read costs a request.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  finalizers?: string[];
}

/** Any object as on the wire. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface KubeApi {
  /** The object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]>;
  create(obj: KubeObject): Promise<KubeObject>;
  /** PUT; when obj carries a resourceVersion a concurrent change fails with KubeApiError code 409. */
  replace(obj: KubeObject): Promise<KubeObject>;
  /** JSON merge patch of the main resource. */
  mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject>;
  /** JSON merge patch of the status subresource. */
  patchStatus(ref: ObjectRef, status: Record<string, unknown>): Promise<KubeObject>;
  /** Server-side apply as field manager `fledge`, forcing ownership of the fields sent. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** Delete; absent objects are not an error. */
  delete(ref: ObjectRef): Promise<void>;
  /** Record a core/v1 Event about `about` (deduplicated by the caller or the implementation). */
  createEvent?(event: KubeObject): Promise<void>;
}

/** A failed API call, with the HTTP status (409 conflict, 404, 422 ...) and the server's message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
});

/**
 * Plain JSON as on the wire. @kubernetes/client-node hands back model instances with Date fields for
 * known kinds; everything past the kube layer sees timestamps as Kubernetes writes them (RFC 3339, seconds).
 */
export const plain = <T>(value: T): T =>
  JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      return raw instanceof Date ? raw.toISOString().replace(/\.\d{3}Z$/, 'Z') : v;
    }),
  ) as T;

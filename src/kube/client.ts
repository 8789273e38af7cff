/** KubeApi over @kubernetes/client-node's generic KubernetesObjectApi (discovery-driven, any kind). */
import * as k8s from '@kubernetes/client-node';
import type { KubeApi, KubeObject, ObjectRef } from './api.js';
import { KubeApiError, refOf } from './api.js';

export const FIELD_MANAGER = 'fledge';

const toError = (e: unknown): Error => {
  if (e instanceof k8s.ApiException) {
    let message = String(e.message);
    let reason: string | undefined;
    try {
      const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string; reason?: string };
      if (body?.message) message = body.message;
      reason = body?.reason;
    } catch {
      // keep the exception's own message
    }
    return new KubeApiError(e.code, message, reason);
  }
  return e instanceof Error ? e : new Error(String(e));
};

const spec = (ref: ObjectRef): k8s.KubernetesObject & { metadata: { name: string; namespace?: string } } => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
});

/** A kubeconfig for a server URL; plain-HTTP local clusters need skipTLSVerify. */
export const kubeConfigForUrl = (server: string): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fledge', server, skipTLSVerify: true }],
    users: [{ name: 'fledge', token: 'fledge' }],
    contexts: [{ name: 'fledge', cluster: 'fledge', user: 'fledge' }],
    currentContext: 'fledge',
  });
  return kc;
};

/** The generic object API, with its discovery lookup made reachable (it is protected upstream). */
/**
 * The generic object API, answering with the JSON as the server sent it. client-node would turn each
 * response into typed model instances (with Date fields) that Fledge then had to turn back into plain
 * JSON: two conversions of every object, ~11% of the controller's CPU in bench/fleet. Discovery keeps the
 * typed path; it is read once per API version.
 */
export class RawObjectApi extends k8s.KubernetesObjectApi {
  resourceOf(apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  protected override async processResponse<T extends k8s.KubernetesObject>(response: k8s.ResponseContext, type?: string): Promise<T> {
    if (type === 'V1APIResourceList' || response.httpStatusCode < 200 || response.httpStatusCode > 299) return super.processResponse<T>(response, type);
    return JSON.parse(await response.body.text()) as T;
  }
}


/**
 * API groups served by Kubernetes itself. Objects of any other group are custom resources and go
 * through the custom-objects API as raw JSON: client-node's generic API picks a typed model from the
 * version and kind alone, so a CRD kind that shares a built-in name (Knative's
 * `serving.knative.dev/v1 Service`, a user's `example.com/v1 Secret`) would be squeezed through the core
 * model and lose every field the core kind lacks, on the way out and on the way back.
 */
const BUILTIN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io',
  'apiextensions.k8s.io', 'admissionregistration.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io',
  'scheduling.k8s.io', 'node.k8s.io', 'certificates.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io',
  'flowcontrol.apiserver.k8s.io', 'resource.k8s.io', 'apiregistration.k8s.io', 'storagemigration.k8s.io', 'internal.apiserver.k8s.io',
]);

interface CustomTarget {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export interface ServerSideApplyOptions {
  fieldManager: string;
  dryRun?: boolean;
  force?: boolean;
}

export class ClientNodeKubeApi implements KubeApi {
  private readonly objects: RawObjectApi;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(readonly config: k8s.KubeConfig) {
    this.objects = config.makeApiClient(RawObjectApi);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  /** Where a custom resource lives, or undefined for built-in kinds (which keep the typed path). */
  private async customTarget(apiVersion: string, kind: string): Promise<CustomTarget | undefined> {
    const [group = '', version = ''] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    if (BUILTIN_GROUPS.has(group)) return undefined;
    const resource = await this.objects.resourceOf(apiVersion, kind);
    if (!resource) throw new KubeApiError(404, `the server does not serve kind ${kind} in ${apiVersion}`, 'NotFound');
    return { group, version, plural: resource.name, namespaced: resource.namespaced };
  }

  private customParams(t: CustomTarget, namespace: string | undefined): { group: string; version: string; plural: string; namespace: string } {
    return { group: t.group, version: t.version, plural: t.plural, namespace: namespace ?? 'default' };
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      const t = await this.customTarget(ref.apiVersion, ref.kind);
      if (t) {
        const p = { ...this.customParams(t, ref.namespace), name: ref.name };
        return (t.namespaced ? await this.custom.getNamespacedCustomObject(p) : await this.custom.getClusterCustomObject(p)) as KubeObject;
      }
      return (await this.objects.read(spec(ref)) as unknown as KubeObject);
    } catch (e) {
      const err = toError(e);
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    try {
      const t = await this.customTarget(apiVersion, kind);
      if (t) {
        const selector = labelSelector ? { labelSelector } : {};
        const res = (t.namespaced && namespace
          ? await this.custom.listNamespacedCustomObject({ ...this.customParams(t, namespace), ...selector })
          : await this.custom.listClusterCustomObject({ group: t.group, version: t.version, plural: t.plural, ...selector })) as { items: KubeObject[] };
        return res.items.map((i) => ({ ...i, apiVersion, kind }));
      }
      const res = await this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return res.items.map((i) => ({ ...(i as unknown as KubeObject), apiVersion, kind }));
    } catch (e) {
      throw toError(e);
    }
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    try {
      const t = await this.customTarget(obj.apiVersion, obj.kind);
      if (t) {
        const p = { ...this.customParams(t, obj.metadata.namespace), body: obj, fieldManager: FIELD_MANAGER };
        return (t.namespaced ? await this.custom.createNamespacedCustomObject(p) : await this.custom.createClusterCustomObject(p)) as KubeObject;
      }
      return (await this.objects.create(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER) as unknown as KubeObject);
    } catch (e) {
      throw toError(e);
    }
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    try {
      const t = await this.customTarget(obj.apiVersion, obj.kind);
      if (t) {
        const p = { ...this.customParams(t, obj.metadata.namespace), name: obj.metadata.name, body: obj, fieldManager: FIELD_MANAGER };
        return (t.namespaced ? await this.custom.replaceNamespacedCustomObject(p) : await this.custom.replaceClusterCustomObject(p)) as KubeObject;
      }
      return (await this.objects.replace(obj as k8s.KubernetesObject, undefined, undefined, FIELD_MANAGER) as unknown as KubeObject);
    } catch (e) {
      throw toError(e);
    }
  }

  /** A patch of a custom resource, raw JSON in and out; the content type names the patch strategy. */
  private async customPatch(t: CustomTarget, ref: ObjectRef, body: unknown, strategy: k8s.PatchStrategy, extra: { fieldManager: string; dryRun?: string; force?: boolean }): Promise<KubeObject> {
    const options = k8s.setHeaderOptions('Content-Type', strategy);
    const p = { ...this.customParams(t, ref.namespace), name: ref.name, body, ...extra };
    return (t.namespaced ? await this.custom.patchNamespacedCustomObject(p, options) : await this.custom.patchClusterCustomObject(p, options)) as KubeObject;
  }

  async mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<KubeObject> {
    try {
      const t = await this.customTarget(ref.apiVersion, ref.kind);
      if (t) return await this.customPatch(t, ref, patch, k8s.PatchStrategy.MergePatch, { fieldManager: FIELD_MANAGER });
      const body = { ...patch, ...spec(ref), metadata: { ...((patch.metadata as object) ?? {}), ...spec(ref).metadata } };
      return (await this.objects.patch(body, undefined, undefined, FIELD_MANAGER, undefined, k8s.PatchStrategy.MergePatch) as unknown as KubeObject);
    } catch (e) {
      throw toError(e);
    }
  }

  async patchStatus(ref: ObjectRef, status: Record<string, unknown>): Promise<KubeObject> {
    // The generic API has no subresources; status is only written on our own custom resources.
    const [group = '', version = ''] = ref.apiVersion.split('/');
    const resource = await this.objects.resourceOf(ref.apiVersion, ref.kind);
    if (!resource || !group) throw new KubeApiError(404, `no custom resource for ${ref.apiVersion} ${ref.kind}`);
    const options = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    try {
      const body = { status };
      const result = resource.namespaced
        ? await this.custom.patchNamespacedCustomObjectStatus({ group, version, namespace: ref.namespace ?? 'default', plural: resource.name, name: ref.name, body, fieldManager: FIELD_MANAGER }, options)
        : await this.custom.patchClusterCustomObjectStatus({ group, version, plural: resource.name, name: ref.name, body, fieldManager: FIELD_MANAGER }, options);
      return result as KubeObject;
    } catch (e) {
      throw toError(e);
    }
  }

  async apply(obj: KubeObject): Promise<KubeObject> {
    return this.serverSideApply(obj, { fieldManager: FIELD_MANAGER, force: true });
  }

  /**
   * Server-side apply with a chosen field manager, optionally as a dry run (nothing persisted) and
   * without forcing conflicts. The reconciler applies as its own manager so that the fields the
   * controller sets (scale to zero, status) are never taken back by a Git apply.
   */
  async serverSideApply(obj: KubeObject, opts: ServerSideApplyOptions): Promise<KubeObject> {
    try {
      const clean = { ...obj, metadata: { ...obj.metadata } };
      delete clean.metadata.resourceVersion;
      const dryRun = opts.dryRun ? 'All' : undefined;
      const t = await this.customTarget(obj.apiVersion, obj.kind);
      if (t) {
        return await this.customPatch(t, refOf(clean), clean, k8s.PatchStrategy.ServerSideApply, {
          fieldManager: opts.fieldManager,
          ...(dryRun ? { dryRun } : {}),
          ...(opts.force !== undefined ? { force: opts.force } : {}),
        });
      }
      return (await this.objects.patch(clean as k8s.KubernetesObject, undefined, dryRun, opts.fieldManager, opts.force, k8s.PatchStrategy.ServerSideApply) as unknown as KubeObject);
    } catch (e) {
      throw toError(e);
    }
  }

  /** Whether a kind is namespaced, from discovery; undefined when the server does not serve it (yet). */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    try {
      return (await this.objects.resourceOf(apiVersion, kind))?.namespaced;
    } catch {
      return undefined;
    }
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      const t = await this.customTarget(ref.apiVersion, ref.kind);
      if (t) {
        const p = { ...this.customParams(t, ref.namespace), name: ref.name };
        await (t.namespaced ? this.custom.deleteNamespacedCustomObject(p) : this.custom.deleteClusterCustomObject(p));
        return;
      }
      await this.objects.delete(spec(ref));
    } catch (e) {
      const err = toError(e);
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
  }
}

/**
 * client-node 1.4 builds a new http(s).Agent for every request (KubeConfig.createAgent), without
 * keep-alive: one TCP (and TLS) connection per API call. Measured in bench/fleet: ~11% of the
 * controller's CPU and thousands of sockets in TIME_WAIT. This reuses one keep-alive agent per
 * cluster of this KubeConfig instance.
 */
export const enableKeepAlive = (kc: k8s.KubeConfig): k8s.KubeConfig => {
  const target = kc as unknown as { createAgent(cluster: k8s.Cluster | null, options: Record<string, unknown>): unknown };
  if (typeof target.createAgent !== 'function') return kc;
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, unknown>();
  target.createAgent = (cluster, options) => {
    const key = `${cluster?.name ?? ''}|${cluster?.server ?? ''}`;
    let agent = agents.get(key);
    if (!agent) agents.set(key, (agent = original(cluster, { ...options, keepAlive: true })));
    return agent;
  };
  return kc;
};

/**
 * A copy of `kc` whose current user impersonates `user`; client-node sends it as `Impersonate-User`, and
 * the API server then authorises every request as that user (the service account's RBAC applies).
 */
export const impersonatingConfig = (kc: k8s.KubeConfig, user: string): k8s.KubeConfig => {
  const current = kc.getCurrentUser()?.name;
  const copy = new k8s.KubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users.map((u) => (u.name === current ? { ...u, impersonateUser: user } : u)),
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return enableKeepAlive(copy);
};

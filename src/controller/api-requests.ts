/**
 * A KubeApi decorator that reports every call before passing it on, by the Kubernetes verb it costs
 * (server-side apply and merge patches are `patch`, a PUT is `update`). The controller wraps the client
 * it sends to the API server with it, under the watch-fed cache, so cached reads are not counted and
 * fledge_api_requests_total shows what the controller really asks of the server: the fleet benchmark
 * and the idle tests read it.
 */
import type { KubeApi } from '../kube/api.js';

export type KubeVerb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export const countingKubeApi = (inner: KubeApi, count: (verb: KubeVerb) => void): KubeApi => {
  const via =
    <A extends unknown[], R>(verb: KubeVerb, call: (...args: A) => R) =>
    (...args: A): R => {
      count(verb);
      return call(...args);
    };
  const counted: KubeApi = {
    get: via('get', inner.get.bind(inner)),
    list: via('list', inner.list.bind(inner)),
    create: via('create', inner.create.bind(inner)),
    replace: via('update', inner.replace.bind(inner)),
    mergePatch: via('patch', inner.mergePatch.bind(inner)),
    patchStatus: via('patch', inner.patchStatus.bind(inner)),
    apply: via('patch', inner.apply.bind(inner)),
    delete: via('delete', inner.delete.bind(inner)),
  };
  if (inner.createEvent) counted.createEvent = via('create', inner.createEvent.bind(inner));
  return counted;
};

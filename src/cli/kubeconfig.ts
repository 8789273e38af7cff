/** The kubeconfig every cluster-facing command loads: --kubeconfig, then $KUBECONFIG, then the defaults. */
import * as k8s from '@kubernetes/client-node';
import { enableKeepAlive } from '../kube/client.js';

export const loadKubeConfig = (file: string | undefined, env: NodeJS.ProcessEnv): k8s.KubeConfig => {
  const kc = new k8s.KubeConfig();
  const path = file ?? env.KUBECONFIG;
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return enableKeepAlive(kc);
};

/** The namespace of the current context, else `default`. */
export const contextNamespace = (kc: k8s.KubeConfig): string => kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';

/** Flags every cluster-facing reconciler command takes (kubectl's names). */
export const CLUSTER_FLAGS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

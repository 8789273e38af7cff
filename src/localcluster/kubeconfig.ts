/** A kubeconfig that points kubectl, helm and client-node at the local cluster. */
import { stringify } from 'yaml';

export const kubeconfigFor = (url: string, contextName = 'fledge-local'): string =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: contextName, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: contextName, user: { token: 'fledge-local' } }],
    contexts: [{ name: contextName, context: { cluster: contextName, user: contextName, namespace: 'default' } }],
    'current-context': contextName,
    preferences: {},
  });

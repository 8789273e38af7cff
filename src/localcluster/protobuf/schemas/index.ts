/** Every schema table this server can decode, in one list. */
import type { PackageTable } from '../schema-table.js';
import { rbacV1, authenticationV1, authorizationV1 } from './access.js';
import { autoscalingV1, autoscalingV2 } from './autoscaling.js';
import { coreV1 } from './core-v1.js';
import { coreV1Pod } from './core-v1-pod.js';
import { metaV1 } from './meta-v1.js';
import { networkingV1, discoveryV1 } from './networking.js';
import { appsV1, batchV1, policyV1, schedulingV1, coordinationV1 } from './workloads.js';

export const packageTables: readonly PackageTable[] = [
  metaV1,
  coreV1Pod,
  coreV1,
  appsV1,
  batchV1,
  policyV1,
  schedulingV1,
  coordinationV1,
  rbacV1,
  authenticationV1,
  authorizationV1,
  networkingV1,
  discoveryV1,
  autoscalingV1,
  autoscalingV2,
];

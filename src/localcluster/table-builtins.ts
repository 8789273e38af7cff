/**
 * Table printers for the built-in kinds the local cluster serves, after kube-apiserver's printers
 * (pkg/printers/internalversion): same column names, types and priorities (priority 1 columns show with
 * `-o wide`), and every cell filled, as the apiserver always prints the wide form. Kinds without a
 * printer here get NAME and AGE; kinds the apiserver serves through its default convertor (CRDs,
 * APIServices) get NAME and CREATED AT.
 */
import type { JsonObject, JsonValue } from './types.js';
import type { ColumnDefinition } from './table-cells.js';
import {
  CREATION_DESCRIPTION,
  ageColumn,
  at,
  column,
  count,
  formatLabelSelector,
  formatLabels,
  int,
  list,
  nameColumn,
  parseTimestamp,
  since,
  str,
} from './table-cells.js';

export interface Printer {
  columns: ColumnDefinition[];
  cells(obj: JsonObject, now: number): JsonValue[];
}

const name = (obj: JsonObject): string => str(at(obj, 'metadata', 'name'));
const age = (obj: JsonObject, now: number): string => since(at(obj, 'metadata', 'creationTimestamp'), now);

const templateColumns = (): ColumnDefinition[] => [
  column('Containers', 'string', 'Names of each container in the template.', 1),
  column('Images', 'string', 'Images referenced by each container in the template.', 1),
];
const templateCells = (obj: JsonObject): string[] => {
  const containers = list(at(obj, 'spec', 'template', 'spec', 'containers'));
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')];
};
const selectorColumn = (): ColumnDefinition => column('Selector', 'string', 'Label selector of the pods.', 1);

const nameAndAge: Printer = {
  columns: [nameColumn(), ageColumn()],
  cells: (obj, now) => [name(obj), age(obj, now)],
};

/** rest.NewDefaultTableConvertor: the creation time as an RFC 3339 string, not an age. */
const nameAndCreatedAt: Printer = {
  columns: [nameColumn(), column('Created At', 'date', CREATION_DESCRIPTION)],
  cells: (obj) => {
    const created = str(at(obj, 'metadata', 'creationTimestamp'));
    const t = parseTimestamp(created);
    return [name(obj), Number.isNaN(t) ? created : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')];
  },
};

const podStatus = (pod: JsonObject): string => {
  let reason = str(at(pod, 'status', 'reason'), str(at(pod, 'status', 'phase')));
  let running = false;
  for (const status of list(at(pod, 'status', 'containerStatuses'))) {
    const waiting = at(status, 'state', 'waiting');
    const terminated = at(status, 'state', 'terminated');
    if (str(at(waiting, 'reason')) !== '') reason = str(at(waiting, 'reason'));
    else if (str(at(terminated, 'reason')) !== '') reason = str(at(terminated, 'reason'));
    else if (terminated !== undefined) {
      const signal = int(at(terminated, 'signal'));
      reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${int(at(terminated, 'exitCode'))}`;
    } else if (status.ready === true && at(status, 'state', 'running') !== undefined) running = true;
  }
  if (reason === 'Completed' && running) {
    const ready = list(at(pod, 'status', 'conditions')).some((c) => c.type === 'Ready' && c.status === 'True');
    reason = ready ? 'Running' : 'NotReady';
  }
  if (at(pod, 'metadata', 'deletionTimestamp') !== undefined && str(at(pod, 'status', 'reason')) !== 'NodeLost') {
    reason = 'Terminating';
  }
  return reason;
};

const podRestarts = (pod: JsonObject, now: number): string => {
  const statuses = list(at(pod, 'status', 'containerStatuses'));
  const restarts = statuses.reduce((n, s) => n + int(s.restartCount), 0);
  const last = Math.max(
    ...statuses.map((s) => Date.parse(str(at(s, 'lastState', 'terminated', 'finishedAt')))).filter((t) => !Number.isNaN(t)),
  );
  return Number.isFinite(last) && restarts > 0 ? `${restarts} (${since(new Date(last).toISOString(), now)} ago)` : String(restarts);
};

const pod: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    column('IP', 'string', 'IP address allocated to the pod.', 1),
    column('Node', 'string', 'Name of the node the pod is scheduled on.', 1),
    column('Nominated Node', 'string', 'Node the scheduler nominated for the pod.', 1),
    column('Readiness Gates', 'string', 'Pod readiness gates and how many of them are met.', 1),
  ],
  cells: (obj, now) => {
    const total = list(at(obj, 'spec', 'containers')).length;
    const ready = list(at(obj, 'status', 'containerStatuses')).filter((s) => s.ready === true).length;
    const gates = list(at(obj, 'spec', 'readinessGates'));
    const conditions = list(at(obj, 'status', 'conditions'));
    const gatesMet = gates.filter((g) => conditions.some((c) => c.type === g.conditionType && c.status === 'True')).length;
    return [
      name(obj),
      `${ready}/${total}`,
      podStatus(obj),
      podRestarts(obj, now),
      age(obj, now),
      str(at(obj, 'status', 'podIP'), '<none>'),
      str(at(obj, 'spec', 'nodeName'), '<none>'),
      str(at(obj, 'status', 'nominatedNodeName'), '<none>'),
      gates.length === 0 ? '<none>' : `${gatesMet}/${gates.length}`,
    ];
  },
};

const deployment: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'integer', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    column('Available', 'integer', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageColumn(),
    ...templateColumns(),
    selectorColumn(),
  ],
  cells: (obj, now) => [
    name(obj),
    `${int(at(obj, 'status', 'readyReplicas'))}/${int(at(obj, 'spec', 'replicas'), 1)}`,
    int(at(obj, 'status', 'updatedReplicas')),
    int(at(obj, 'status', 'availableReplicas')),
    age(obj, now),
    ...templateCells(obj),
    formatLabelSelector(at(obj, 'spec', 'selector')),
  ],
};

const replicaSet: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'Number of desired pods.'),
    column('Current', 'integer', 'Number of pods currently running.'),
    column('Ready', 'integer', 'Number of ready pods.'),
    ageColumn(),
    ...templateColumns(),
    selectorColumn(),
  ],
  cells: (obj, now) => [
    name(obj),
    int(at(obj, 'spec', 'replicas'), 1),
    int(at(obj, 'status', 'replicas')),
    int(at(obj, 'status', 'readyReplicas')),
    age(obj, now),
    ...templateCells(obj),
    formatLabelSelector(at(obj, 'spec', 'selector')),
  ],
};

const daemonSet: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    column('Current', 'integer', 'The number of nodes running at least one daemon pod that are supposed to.'),
    column('Ready', 'integer', 'The number of nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'The number of nodes running the updated daemon pod.'),
    column('Available', 'integer', 'The number of nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'Node selector of the pod template.'),
    ageColumn(),
    ...templateColumns(),
    selectorColumn(),
  ],
  cells: (obj, now) => [
    name(obj),
    int(at(obj, 'status', 'desiredNumberScheduled')),
    int(at(obj, 'status', 'currentNumberScheduled')),
    int(at(obj, 'status', 'numberReady')),
    int(at(obj, 'status', 'updatedNumberScheduled')),
    int(at(obj, 'status', 'numberAvailable')),
    formatLabels(at(obj, 'spec', 'template', 'spec', 'nodeSelector')),
    age(obj, now),
    ...templateCells(obj),
    formatLabelSelector(at(obj, 'spec', 'selector')),
  ],
};

const statefulSet: Printer = {
  columns: [nameColumn(), column('Ready', 'string', 'Number of the pod with ready state'), ageColumn(), ...templateColumns()],
  cells: (obj, now) => [
    name(obj),
    `${int(at(obj, 'status', 'readyReplicas'))}/${int(at(obj, 'spec', 'replicas'), 1)}`,
    age(obj, now),
    ...templateCells(obj),
  ],
};

const serviceExternalIp = (svc: JsonObject): string => {
  const type = str(at(svc, 'spec', 'type'), 'ClusterIP');
  const externalIPs = at(svc, 'spec', 'externalIPs');
  const external = Array.isArray(externalIPs) ? externalIPs.map(String) : [];
  if (type === 'ClusterIP' || type === 'NodePort') return external.length > 0 ? external.join(',') : '<none>';
  if (type === 'ExternalName') return str(at(svc, 'spec', 'externalName'));
  if (type !== 'LoadBalancer') return '<unknown>';
  const ingress = list(at(svc, 'status', 'loadBalancer', 'ingress')).map((i) => str(i.ip, str(i.hostname)));
  const all = [...ingress.filter((i) => i !== ''), ...external];
  return all.length > 0 ? all.join(',') : '<pending>';
};

const servicePorts = (svc: JsonObject): string => {
  const ports = list(at(svc, 'spec', 'ports')).map((p) => {
    const protocol = str(p.protocol, 'TCP');
    const nodePort = int(p.nodePort);
    return nodePort > 0 ? `${int(p.port)}:${nodePort}/${protocol}` : `${int(p.port)}/${protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
};

const service: Printer = {
  columns: [
    nameColumn(),
    column('Type', 'string', 'How the Service is exposed.'),
    column('Cluster-IP', 'string', 'The IP address of the service within the cluster.'),
    column('External-IP', 'string', 'IP addresses on which nodes also accept traffic for this service.'),
    column('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    ageColumn(),
    column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', 1),
  ],
  cells: (obj, now) => [
    name(obj),
    str(at(obj, 'spec', 'type'), 'ClusterIP'),
    str(at(obj, 'spec', 'clusterIP'), '<none>'),
    serviceExternalIp(obj),
    servicePorts(obj),
    age(obj, now),
    formatLabels(at(obj, 'spec', 'selector')),
  ],
};

const namespace: Printer = {
  columns: [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  cells: (obj, now) => [name(obj), str(at(obj, 'status', 'phase'), 'Active'), age(obj, now)],
};

const configMap: Printer = {
  columns: [nameColumn(), column('Data', 'integer', 'Number of entries in the ConfigMap.'), ageColumn()],
  cells: (obj, now) => [name(obj), count(obj.data) + count(obj.binaryData), age(obj, now)],
};

const secret: Printer = {
  columns: [
    nameColumn(),
    column('Type', 'string', 'The type of the secret'),
    column('Data', 'integer', 'The number of data entries in the secret'),
    ageColumn(),
  ],
  cells: (obj, now) => [name(obj), str(obj.type, 'Opaque'), count(obj.data), age(obj, now)],
};

const serviceAccount: Printer = {
  columns: [nameColumn(), column('Secrets', 'integer', 'Number of secrets the service account references.'), ageColumn()],
  cells: (obj, now) => [name(obj), list(obj.secrets).length, age(obj, now)],
};

const lease: Printer = {
  columns: [nameColumn(), column('Holder', 'string', 'The identity of the lease holder.'), ageColumn()],
  cells: (obj, now) => [name(obj), str(at(obj, 'spec', 'holderIdentity')), age(obj, now)],
};

/** core/v1 and events.k8s.io/v1 Events, read through the same lens. */
const event: Printer = {
  columns: [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning).'),
    column('Reason', 'string', 'Short, machine understandable reason for the transition.'),
    column('Object', 'string', 'The object that this event is about.'),
    column('Subobject', 'string', 'The part of the object the event is about.', 1),
    column('Source', 'string', 'The component reporting this event.', 1),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 'The time at which the event was first recorded.', 1),
    column('Count', 'integer', 'The number of times this event has occurred.', 1),
    column('Name', 'string', 'Name of the event object.', 1, 'name'),
  ],
  cells: (obj, now) => {
    const involved = at(obj, 'involvedObject') ?? at(obj, 'regarding');
    const firstTime = str(obj.firstTimestamp, str(obj.deprecatedFirstTimestamp, str(obj.eventTime)));
    const series = at(obj, 'series');
    const lastTime = series !== undefined ? str(at(series, 'lastObservedTime')) : str(obj.lastTimestamp, str(obj.deprecatedLastTimestamp, firstTime));
    const kind = str(at(involved, 'kind')).toLowerCase();
    const target = str(at(involved, 'name')) !== '' ? `${kind}/${str(at(involved, 'name'))}` : kind;
    const component = str(at(obj, 'source', 'component'), str(at(obj, 'deprecatedSource', 'component'), str(obj.reportingController, str(obj.reportingComponent))));
    const host = str(at(obj, 'source', 'host'), str(at(obj, 'deprecatedSource', 'host'), str(obj.reportingInstance)));
    const occurrences = series !== undefined ? int(at(series, 'count')) : int(obj.count, int(obj.deprecatedCount));
    return [
      since(lastTime, now),
      str(obj.type),
      str(obj.reason),
      target,
      str(at(involved, 'fieldPath')),
      host === '' ? component : `${component}, ${host}`,
      str(obj.message, str(obj.note)).trim(),
      since(firstTime, now),
      occurrences === 0 ? 1 : occurrences,
      name(obj),
    ];
  },
};

const printers: Record<string, Printer> = {
  '/Pod': pod,
  'apps/Deployment': deployment,
  'apps/ReplicaSet': replicaSet,
  'apps/DaemonSet': daemonSet,
  'apps/StatefulSet': statefulSet,
  '/Service': service,
  '/Namespace': namespace,
  '/ConfigMap': configMap,
  '/Secret': secret,
  '/ServiceAccount': serviceAccount,
  '/Event': event,
  'events.k8s.io/Event': event,
  'coordination.k8s.io/Lease': lease,
  'apiextensions.k8s.io/CustomResourceDefinition': nameAndCreatedAt,
  'apiregistration.k8s.io/APIService': nameAndCreatedAt,
};

/** The printer for a built-in kind (NAME and AGE when there is no dedicated one). */
export const builtinPrinter = (group: string, kind: string): Printer => printers[`${group}/${kind}`] ?? nameAndAge;

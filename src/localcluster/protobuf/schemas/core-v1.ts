// Field numbers of core/v1 (everything outside the pod template), taken from the FileDescriptorProtos that kubectl 1.33 embeds
// (k8s.io/api and k8s.io/apimachinery generated.proto). See ../schema-table.ts for the notation.
import type { PackageTable } from '../schema-table.js';

export const coreV1: PackageTable = {
  pkg: 'core/v1',
  messages: {
    ClientIPConfig: { 1: ['timeoutSeconds', 'int32?'] },
    ConfigMap: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['data', 'map<string,string>'], 3: ['binaryData', 'map<string,bytes>'],
      4: ['immutable', 'bool?'],
    },
    ContainerState: {
      1: ['waiting', 'ContainerStateWaiting'], 2: ['running', 'ContainerStateRunning'],
      3: ['terminated', 'ContainerStateTerminated'],
    },
    ContainerStateRunning: { 1: ['startedAt', 'Time'] },
    ContainerStateTerminated: {
      1: ['exitCode', 'int32?'], 2: ['signal', 'int32'], 3: ['reason', 'string'], 4: ['message', 'string'],
      5: ['startedAt', 'Time'], 6: ['finishedAt', 'Time'], 7: ['containerID', 'string'],
    },
    ContainerStateWaiting: { 1: ['reason', 'string'], 2: ['message', 'string'] },
    ContainerStatus: {
      1: ['name', 'string?'], 2: ['state', 'ContainerState'], 3: ['lastState', 'ContainerState'], 4: ['ready', 'bool?'],
      5: ['restartCount', 'int32?'], 6: ['image', 'string?'], 7: ['imageID', 'string?'], 8: ['containerID', 'string'],
      9: ['started', 'bool?'], 10: ['allocatedResources', 'map<string,Quantity>'],
      11: ['resources', 'ResourceRequirements'], 12: ['volumeMounts', 'VolumeMountStatus[]'],
      13: ['user', 'ContainerUser'], 14: ['allocatedResourcesStatus', 'ResourceStatus[]'],
      15: ['stopSignal', 'string?'],
    },
    ContainerUser: { 1: ['linux', 'LinuxContainerUser'] },
    EndpointAddress: {
      1: ['ip', 'string?'], 2: ['targetRef', 'ObjectReference'], 3: ['hostname', 'string'], 4: ['nodeName', 'string?'],
    },
    EndpointPort: {
      1: ['name', 'string'], 2: ['port', 'int32?'], 3: ['protocol', 'string'], 4: ['appProtocol', 'string?'],
    },
    EndpointSubset: {
      1: ['addresses', 'EndpointAddress[]'], 2: ['notReadyAddresses', 'EndpointAddress[]'],
      3: ['ports', 'EndpointPort[]'],
    },
    Endpoints: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['subsets', 'EndpointSubset[]'] },
    Event: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['involvedObject', 'ObjectReference'], 3: ['reason', 'string'],
      4: ['message', 'string'], 5: ['source', 'EventSource'], 6: ['firstTimestamp', 'Time'],
      7: ['lastTimestamp', 'Time'], 8: ['count', 'int32'], 9: ['type', 'string'], 10: ['eventTime', 'MicroTime'],
      11: ['series', 'EventSeries'], 12: ['action', 'string'], 13: ['related', 'ObjectReference'],
      14: ['reportingComponent', 'string?'], 15: ['reportingInstance', 'string?'],
    },
    EventSeries: { 1: ['count', 'int32?'], 2: ['lastObservedTime', 'MicroTime'] },
    EventSource: { 1: ['component', 'string'], 2: ['host', 'string'] },
    HostIP: { 1: ['ip', 'string?'] },
    LimitRange: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'LimitRangeSpec'] },
    LimitRangeItem: {
      1: ['type', 'string?'], 2: ['max', 'map<string,Quantity>'], 3: ['min', 'map<string,Quantity>'],
      4: ['default', 'map<string,Quantity>'], 5: ['defaultRequest', 'map<string,Quantity>'],
      6: ['maxLimitRequestRatio', 'map<string,Quantity>'],
    },
    LimitRangeSpec: { 1: ['limits', 'LimitRangeItem[]'] },
    LinuxContainerUser: { 1: ['uid', 'int64?'], 2: ['gid', 'int64?'], 3: ['supplementalGroups', 'int64[]'] },
    LoadBalancerIngress: {
      1: ['ip', 'string'], 2: ['hostname', 'string'], 3: ['ipMode', 'string?'], 4: ['ports', 'PortStatus[]'],
    },
    LoadBalancerStatus: { 1: ['ingress', 'LoadBalancerIngress[]'] },
    ModifyVolumeStatus: { 1: ['targetVolumeAttributesClassName', 'string'], 2: ['status', 'string?'] },
    Namespace: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'NamespaceSpec'], 3: ['status', 'NamespaceStatus'],
    },
    NamespaceCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 4: ['lastTransitionTime', 'Time'], 5: ['reason', 'string'],
      6: ['message', 'string'],
    },
    NamespaceSpec: { 1: ['finalizers', 'string[]'] },
    NamespaceStatus: { 1: ['phase', 'string'], 2: ['conditions', 'NamespaceCondition[]'] },
    ObjectReference: {
      1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'],
      5: ['apiVersion', 'string'], 6: ['resourceVersion', 'string'], 7: ['fieldPath', 'string'],
    },
    PersistentVolumeClaim: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'PersistentVolumeClaimSpec'],
      3: ['status', 'PersistentVolumeClaimStatus'],
    },
    PersistentVolumeClaimCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastProbeTime', 'Time'], 4: ['lastTransitionTime', 'Time'],
      5: ['reason', 'string'], 6: ['message', 'string'],
    },
    PersistentVolumeClaimStatus: {
      1: ['phase', 'string'], 2: ['accessModes', 'string[]'], 3: ['capacity', 'map<string,Quantity>'],
      4: ['conditions', 'PersistentVolumeClaimCondition[]'], 5: ['allocatedResources', 'map<string,Quantity>'],
      7: ['allocatedResourceStatuses', 'map<string,string>'], 8: ['currentVolumeAttributesClassName', 'string?'],
      9: ['modifyVolumeStatus', 'ModifyVolumeStatus'],
    },
    Pod: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'PodSpec'], 3: ['status', 'PodStatus'] },
    PodCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastProbeTime', 'Time'], 4: ['lastTransitionTime', 'Time'],
      5: ['reason', 'string'], 6: ['message', 'string'], 7: ['observedGeneration', 'int64'],
    },
    PodIP: { 1: ['ip', 'string?'] },
    PodResourceClaimStatus: { 1: ['name', 'string?'], 2: ['resourceClaimName', 'string?'] },
    PodStatus: {
      1: ['phase', 'string'], 2: ['conditions', 'PodCondition[]'], 3: ['message', 'string'], 4: ['reason', 'string'],
      5: ['hostIP', 'string'], 6: ['podIP', 'string'], 7: ['startTime', 'Time'],
      8: ['containerStatuses', 'ContainerStatus[]'], 9: ['qosClass', 'string'],
      10: ['initContainerStatuses', 'ContainerStatus[]'], 11: ['nominatedNodeName', 'string'],
      12: ['podIPs', 'PodIP[]'], 13: ['ephemeralContainerStatuses', 'ContainerStatus[]'], 14: ['resize', 'string'],
      15: ['resourceClaimStatuses', 'PodResourceClaimStatus[]'], 16: ['hostIPs', 'HostIP[]'],
      17: ['observedGeneration', 'int64'],
    },
    PodTemplate: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['template', 'PodTemplateSpec'] },
    PortStatus: { 1: ['port', 'int32?'], 2: ['protocol', 'string?'], 3: ['error', 'string?'] },
    ReplicationController: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'ReplicationControllerSpec'],
      3: ['status', 'ReplicationControllerStatus'],
    },
    ReplicationControllerCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastTransitionTime', 'Time'], 4: ['reason', 'string'],
      5: ['message', 'string'],
    },
    ReplicationControllerSpec: {
      1: ['replicas', 'int32?'], 2: ['selector', 'map<string,string>'], 3: ['template', 'PodTemplateSpec'],
      4: ['minReadySeconds', 'int32'],
    },
    ReplicationControllerStatus: {
      1: ['replicas', 'int32?'], 2: ['fullyLabeledReplicas', 'int32'], 3: ['observedGeneration', 'int64'],
      4: ['readyReplicas', 'int32'], 5: ['availableReplicas', 'int32'],
      6: ['conditions', 'ReplicationControllerCondition[]'],
    },
    ResourceHealth: { 1: ['resourceID', 'string?'], 2: ['health', 'string'] },
    ResourceQuota: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'ResourceQuotaSpec'], 3: ['status', 'ResourceQuotaStatus'],
    },
    ResourceQuotaSpec: {
      1: ['hard', 'map<string,Quantity>'], 2: ['scopes', 'string[]'], 3: ['scopeSelector', 'ScopeSelector'],
    },
    ResourceQuotaStatus: { 1: ['hard', 'map<string,Quantity>'], 2: ['used', 'map<string,Quantity>'] },
    ResourceStatus: { 1: ['name', 'string?'], 2: ['resources', 'ResourceHealth[]'] },
    ScopeSelector: { 1: ['matchExpressions', 'ScopedResourceSelectorRequirement[]'] },
    ScopedResourceSelectorRequirement: {
      1: ['scopeName', 'string?'], 2: ['operator', 'string?'], 3: ['values', 'string[]'],
    },
    Secret: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['data', 'map<string,bytes>'], 3: ['type', 'string'],
      4: ['stringData', 'map<string,string>'], 5: ['immutable', 'bool?'],
    },
    Service: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'ServiceSpec'], 3: ['status', 'ServiceStatus'] },
    ServiceAccount: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['secrets', 'ObjectReference[]'],
      3: ['imagePullSecrets', 'LocalObjectReference[]'], 4: ['automountServiceAccountToken', 'bool?'],
    },
    ServicePort: {
      1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int32?'], 4: ['targetPort', 'IntOrString'],
      5: ['nodePort', 'int32'], 6: ['appProtocol', 'string?'],
    },
    ServiceSpec: {
      1: ['ports', 'ServicePort[]'], 2: ['selector', 'map<string,string>'], 3: ['clusterIP', 'string'],
      4: ['type', 'string'], 5: ['externalIPs', 'string[]'], 7: ['sessionAffinity', 'string'],
      8: ['loadBalancerIP', 'string'], 9: ['loadBalancerSourceRanges', 'string[]'], 10: ['externalName', 'string'],
      11: ['externalTrafficPolicy', 'string'], 12: ['healthCheckNodePort', 'int32'],
      13: ['publishNotReadyAddresses', 'bool'], 14: ['sessionAffinityConfig', 'SessionAffinityConfig'],
      17: ['ipFamilyPolicy', 'string?'], 18: ['clusterIPs', 'string[]'], 19: ['ipFamilies', 'string[]'],
      20: ['allocateLoadBalancerNodePorts', 'bool?'], 21: ['loadBalancerClass', 'string?'],
      22: ['internalTrafficPolicy', 'string?'], 23: ['trafficDistribution', 'string?'],
    },
    ServiceStatus: { 1: ['loadBalancer', 'LoadBalancerStatus'], 2: ['conditions', 'meta/v1.Condition[]'] },
    SessionAffinityConfig: { 1: ['clientIP', 'ClientIPConfig'] },
    VolumeMountStatus: {
      1: ['name', 'string?'], 2: ['mountPath', 'string?'], 3: ['readOnly', 'bool'], 4: ['recursiveReadOnly', 'string?'],
    },
  },
};

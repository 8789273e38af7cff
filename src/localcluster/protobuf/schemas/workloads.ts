// Field numbers of apps/v1, batch/v1, policy/v1, scheduling/v1, coordination/v1, taken from the FileDescriptorProtos that kubectl 1.33 embeds
// (k8s.io/api and k8s.io/apimachinery generated.proto). See ../schema-table.ts for the notation.
import type { PackageTable } from '../schema-table.js';

export const appsV1: PackageTable = {
  pkg: 'apps/v1',
  messages: {
    ControllerRevision: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['data', 'RawExtension'], 3: ['revision', 'int64?'],
    },
    DaemonSet: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'DaemonSetSpec'], 3: ['status', 'DaemonSetStatus'],
    },
    DaemonSetCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastTransitionTime', 'Time'], 4: ['reason', 'string'],
      5: ['message', 'string'],
    },
    DaemonSetSpec: {
      1: ['selector', 'meta/v1.LabelSelector'], 2: ['template', 'core/v1.PodTemplateSpec'],
      3: ['updateStrategy', 'DaemonSetUpdateStrategy'], 4: ['minReadySeconds', 'int32'],
      6: ['revisionHistoryLimit', 'int32?'],
    },
    DaemonSetStatus: {
      1: ['currentNumberScheduled', 'int32?'], 2: ['numberMisscheduled', 'int32?'],
      3: ['desiredNumberScheduled', 'int32?'], 4: ['numberReady', 'int32?'], 5: ['observedGeneration', 'int64'],
      6: ['updatedNumberScheduled', 'int32'], 7: ['numberAvailable', 'int32'], 8: ['numberUnavailable', 'int32'],
      9: ['collisionCount', 'int32?'], 10: ['conditions', 'DaemonSetCondition[]'],
    },
    DaemonSetUpdateStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', 'RollingUpdateDaemonSet'] },
    Deployment: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'DeploymentSpec'], 3: ['status', 'DeploymentStatus'],
    },
    DeploymentCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 4: ['reason', 'string'], 5: ['message', 'string'],
      6: ['lastUpdateTime', 'Time'], 7: ['lastTransitionTime', 'Time'],
    },
    DeploymentSpec: {
      1: ['replicas', 'int32?'], 2: ['selector', 'meta/v1.LabelSelector'], 3: ['template', 'core/v1.PodTemplateSpec'],
      4: ['strategy', 'DeploymentStrategy'], 5: ['minReadySeconds', 'int32'], 6: ['revisionHistoryLimit', 'int32?'],
      7: ['paused', 'bool'], 9: ['progressDeadlineSeconds', 'int32?'],
    },
    DeploymentStatus: {
      1: ['observedGeneration', 'int64'], 2: ['replicas', 'int32'], 3: ['updatedReplicas', 'int32'],
      4: ['availableReplicas', 'int32'], 5: ['unavailableReplicas', 'int32'],
      6: ['conditions', 'DeploymentCondition[]'], 7: ['readyReplicas', 'int32'], 8: ['collisionCount', 'int32?'],
      9: ['terminatingReplicas', 'int32?'],
    },
    DeploymentStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', 'RollingUpdateDeployment'] },
    ReplicaSet: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'ReplicaSetSpec'], 3: ['status', 'ReplicaSetStatus'],
    },
    ReplicaSetCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastTransitionTime', 'Time'], 4: ['reason', 'string'],
      5: ['message', 'string'],
    },
    ReplicaSetSpec: {
      1: ['replicas', 'int32?'], 2: ['selector', 'meta/v1.LabelSelector'], 3: ['template', 'core/v1.PodTemplateSpec'],
      4: ['minReadySeconds', 'int32'],
    },
    ReplicaSetStatus: {
      1: ['replicas', 'int32?'], 2: ['fullyLabeledReplicas', 'int32'], 3: ['observedGeneration', 'int64'],
      4: ['readyReplicas', 'int32'], 5: ['availableReplicas', 'int32'], 6: ['conditions', 'ReplicaSetCondition[]'],
      7: ['terminatingReplicas', 'int32?'],
    },
    RollingUpdateDaemonSet: { 1: ['maxUnavailable', 'IntOrString'], 2: ['maxSurge', 'IntOrString'] },
    RollingUpdateDeployment: { 1: ['maxUnavailable', 'IntOrString'], 2: ['maxSurge', 'IntOrString'] },
    RollingUpdateStatefulSetStrategy: { 1: ['partition', 'int32?'], 2: ['maxUnavailable', 'IntOrString'] },
    StatefulSet: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'StatefulSetSpec'], 3: ['status', 'StatefulSetStatus'],
    },
    StatefulSetCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastTransitionTime', 'Time'], 4: ['reason', 'string'],
      5: ['message', 'string'],
    },
    StatefulSetOrdinals: { 1: ['start', 'int32?'] },
    StatefulSetPersistentVolumeClaimRetentionPolicy: { 1: ['whenDeleted', 'string'], 2: ['whenScaled', 'string'] },
    StatefulSetSpec: {
      1: ['replicas', 'int32?'], 2: ['selector', 'meta/v1.LabelSelector'], 3: ['template', 'core/v1.PodTemplateSpec'],
      4: ['volumeClaimTemplates', 'core/v1.PersistentVolumeClaim[]'], 5: ['serviceName', 'string?'],
      6: ['podManagementPolicy', 'string'], 7: ['updateStrategy', 'StatefulSetUpdateStrategy'],
      8: ['revisionHistoryLimit', 'int32?'], 9: ['minReadySeconds', 'int32'],
      10: ['persistentVolumeClaimRetentionPolicy', 'StatefulSetPersistentVolumeClaimRetentionPolicy'],
      11: ['ordinals', 'StatefulSetOrdinals'],
    },
    StatefulSetStatus: {
      1: ['observedGeneration', 'int64'], 2: ['replicas', 'int32?'], 3: ['readyReplicas', 'int32'],
      4: ['currentReplicas', 'int32'], 5: ['updatedReplicas', 'int32'], 6: ['currentRevision', 'string'],
      7: ['updateRevision', 'string'], 9: ['collisionCount', 'int32?'], 10: ['conditions', 'StatefulSetCondition[]'],
      11: ['availableReplicas', 'int32?'],
    },
    StatefulSetUpdateStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', 'RollingUpdateStatefulSetStrategy'] },
  },
};

export const batchV1: PackageTable = {
  pkg: 'batch/v1',
  messages: {
    CronJob: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'CronJobSpec'], 3: ['status', 'CronJobStatus'] },
    CronJobSpec: {
      1: ['schedule', 'string?'], 2: ['startingDeadlineSeconds', 'int64?'], 3: ['concurrencyPolicy', 'string'],
      4: ['suspend', 'bool?'], 5: ['jobTemplate', 'JobTemplateSpec'], 6: ['successfulJobsHistoryLimit', 'int32?'],
      7: ['failedJobsHistoryLimit', 'int32?'], 8: ['timeZone', 'string?'],
    },
    CronJobStatus: {
      1: ['active', 'core/v1.ObjectReference[]'], 4: ['lastScheduleTime', 'Time'], 5: ['lastSuccessfulTime', 'Time'],
    },
    Job: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'JobSpec'], 3: ['status', 'JobStatus'] },
    JobCondition: {
      1: ['type', 'string?'], 2: ['status', 'string?'], 3: ['lastProbeTime', 'Time'], 4: ['lastTransitionTime', 'Time'],
      5: ['reason', 'string'], 6: ['message', 'string'],
    },
    JobSpec: {
      1: ['parallelism', 'int32?'], 2: ['completions', 'int32?'], 3: ['activeDeadlineSeconds', 'int64?'],
      4: ['selector', 'meta/v1.LabelSelector'], 5: ['manualSelector', 'bool?'],
      6: ['template', 'core/v1.PodTemplateSpec'], 7: ['backoffLimit', 'int32?'],
      8: ['ttlSecondsAfterFinished', 'int32?'], 9: ['completionMode', 'string?'], 10: ['suspend', 'bool?'],
      11: ['podFailurePolicy', 'PodFailurePolicy'], 12: ['backoffLimitPerIndex', 'int32?'],
      13: ['maxFailedIndexes', 'int32?'], 14: ['podReplacementPolicy', 'string?'], 15: ['managedBy', 'string?'],
      16: ['successPolicy', 'SuccessPolicy'],
    },
    JobStatus: {
      1: ['conditions', 'JobCondition[]'], 2: ['startTime', 'Time'], 3: ['completionTime', 'Time'],
      4: ['active', 'int32'], 5: ['succeeded', 'int32'], 6: ['failed', 'int32'], 7: ['completedIndexes', 'string'],
      8: ['uncountedTerminatedPods', 'UncountedTerminatedPods'], 9: ['ready', 'int32?'],
      10: ['failedIndexes', 'string?'], 11: ['terminating', 'int32?'],
    },
    JobTemplateSpec: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'JobSpec'] },
    PodFailurePolicy: { 1: ['rules', 'PodFailurePolicyRule[]'] },
    PodFailurePolicyOnExitCodesRequirement: {
      1: ['containerName', 'string?'], 2: ['operator', 'string?'], 3: ['values', 'int32[]'],
    },
    PodFailurePolicyOnPodConditionsPattern: { 1: ['type', 'string?'], 2: ['status', 'string?'] },
    PodFailurePolicyRule: {
      1: ['action', 'string?'], 2: ['onExitCodes', 'PodFailurePolicyOnExitCodesRequirement'],
      3: ['onPodConditions', 'PodFailurePolicyOnPodConditionsPattern[]'],
    },
    SuccessPolicy: { 1: ['rules', 'SuccessPolicyRule[]'] },
    SuccessPolicyRule: { 1: ['succeededIndexes', 'string?'], 2: ['succeededCount', 'int32?'] },
    UncountedTerminatedPods: { 1: ['succeeded', 'string[]'], 2: ['failed', 'string[]'] },
  },
};

export const policyV1: PackageTable = {
  pkg: 'policy/v1',
  messages: {
    Eviction: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['deleteOptions', 'meta/v1.DeleteOptions'] },
    PodDisruptionBudget: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'PodDisruptionBudgetSpec'],
      3: ['status', 'PodDisruptionBudgetStatus'],
    },
    PodDisruptionBudgetSpec: {
      1: ['minAvailable', 'IntOrString'], 2: ['selector', 'meta/v1.LabelSelector'],
      3: ['maxUnavailable', 'IntOrString'], 4: ['unhealthyPodEvictionPolicy', 'string?'],
    },
    PodDisruptionBudgetStatus: {
      1: ['observedGeneration', 'int64'], 2: ['disruptedPods', 'map<string,Time>'], 3: ['disruptionsAllowed', 'int32?'],
      4: ['currentHealthy', 'int32?'], 5: ['desiredHealthy', 'int32?'], 6: ['expectedPods', 'int32?'],
      7: ['conditions', 'meta/v1.Condition[]'],
    },
  },
};

export const schedulingV1: PackageTable = {
  pkg: 'scheduling/v1',
  messages: {
    PriorityClass: {
      1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['value', 'int32?'], 3: ['globalDefault', 'bool'],
      4: ['description', 'string'], 5: ['preemptionPolicy', 'string?'],
    },
  },
};

export const coordinationV1: PackageTable = {
  pkg: 'coordination/v1',
  messages: {
    Lease: { 1: ['metadata', 'meta/v1.ObjectMeta'], 2: ['spec', 'LeaseSpec'] },
    LeaseSpec: {
      1: ['holderIdentity', 'string?'], 2: ['leaseDurationSeconds', 'int32?'], 3: ['acquireTime', 'MicroTime'],
      4: ['renewTime', 'MicroTime'], 5: ['leaseTransitions', 'int32?'], 6: ['strategy', 'string?'],
      7: ['preferredHolder', 'string?'],
    },
  },
};

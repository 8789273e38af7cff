/**
 * The router registry, by the names Flagger uses for `spec.provider` and `--mesh-provider`. Adding a
 * router = one file + one entry here. An unknown name is an error listing the known ones (Flagger
 * silently falls back to istio; Fledge does not).
 */
import type { Canary, Problem, Strategy } from '../../src/api/index.js';
import { FledgeError } from '../../src/api/index.js';
import type { Router, RouterCapabilities, RouterDeps, RouterFactory } from './types.js';
import { APISIX_CAPABILITIES, apisixProblems, createApisixRouter } from './apisix.js';
import { APPMESH_ROUTERS } from './appmesh.js';
import { CONTOUR_CAPABILITIES, contourProblems, createContourRouter } from './contour.js';
import { GATEWAYAPI_CAPABILITIES, createGatewayApiRouter, gatewayApiProblems } from './gatewayapi.js';
import { GLOO_CAPABILITIES, createGlooRouter, glooProblems } from './gloo.js';
import { ISTIO_CAPABILITIES, createIstioRouter, istioProblems } from './istio.js';
import { KNATIVE_CAPABILITIES, createKnativeRouter, knativeProblems } from './knative.js';
import { KUBERNETES_CAPABILITIES, createKubernetesRouter } from './kubernetes.js';
import { KUMA_CAPABILITIES, createKumaRouter } from './kuma.js';
import { NGINX_CAPABILITIES, createNginxRouter, nginxProblems } from './nginx.js';
import { SMI_ROUTERS } from './smi.js';
import { SKIPPER_CAPABILITIES, createSkipperRouter, skipperProblems } from './skipper.js';
import { TRAEFIK_CAPABILITIES, createTraefikRouter } from './traefik.js';

interface RouterEntry {
  create: RouterFactory;
  /** Known without a cluster, so a canary can be checked before any router is built. */
  capabilities: RouterCapabilities;
  /** Router-specific limits beyond the capabilities (e.g. istio cannot A/B-test TCP). */
  problems?: (canary: Canary) => Problem[];
  /** Also serve `<name>:<variant>` (Flagger's `gloo:<ns>`, `gatewayapi:v1` style names). */
  variants?: boolean;
}

const ROUTERS: Readonly<Record<string, RouterEntry>> = Object.freeze({
  apisix: { create: createApisixRouter, capabilities: APISIX_CAPABILITIES, problems: apisixProblems },
  ...APPMESH_ROUTERS,
  contour: { create: createContourRouter, capabilities: CONTOUR_CAPABILITIES, problems: contourProblems },
  gatewayapi: { create: createGatewayApiRouter, capabilities: GATEWAYAPI_CAPABILITIES, problems: gatewayApiProblems, variants: true },
  gloo: { create: createGlooRouter, capabilities: GLOO_CAPABILITIES, problems: glooProblems, variants: true },
  istio: { create: createIstioRouter, capabilities: ISTIO_CAPABILITIES, problems: istioProblems },
  knative: { create: createKnativeRouter, capabilities: KNATIVE_CAPABILITIES, problems: knativeProblems },
  kubernetes: { create: createKubernetesRouter, capabilities: KUBERNETES_CAPABILITIES },
  kuma: { create: createKumaRouter, capabilities: KUMA_CAPABILITIES },
  nginx: { create: createNginxRouter, capabilities: NGINX_CAPABILITIES, problems: nginxProblems },
  ...SMI_ROUTERS,
  skipper: { create: createSkipperRouter, capabilities: SKIPPER_CAPABILITIES, problems: skipperProblems },
  traefik: { create: createTraefikRouter, capabilities: TRAEFIK_CAPABILITIES },
});

/** The router names this build serves, sorted. */
export const knownRouters = (): string[] => Object.keys(ROUTERS).sort();

const entryFor = (name: string): RouterEntry | undefined => {
  const exact = Object.hasOwn(ROUTERS, name) ? ROUTERS[name] : undefined;
  if (exact) return exact;
  const family = name.split(':', 1)[0] ?? '';
  const entry = family !== name && Object.hasOwn(ROUTERS, family) ? ROUTERS[family] : undefined;
  return entry?.variants ? entry : undefined;
};

const unknownRule = (name: string): string => `unknown router "${name}" (known routers: ${knownRouters().join(', ')})`;

/** The router registered under `name`; throws FledgeError 'UnknownProvider' naming the known ones. */
export const createRouter = (name: string, deps: RouterDeps): Router => {
  const entry = entryFor(name);
  if (!entry) throw new FledgeError('UnknownProvider', unknownRule(name));
  return entry.create({ ...deps, name });
};

/** The capabilities of a router, or undefined for an unknown name. */
export const routerCapabilities = (name: string): RouterCapabilities | undefined => entryFor(name)?.capabilities;

const STRATEGY_NAMES: Record<Strategy, string> = {
  canary: 'progressive traffic shifting (stepWeight/stepWeights)',
  ab: 'A/B testing (analysis.match)',
  bluegreen: 'blue/green (iterations)',
};

const strategyPath = (canary: Canary): string => {
  const { analysis } = canary.spec;
  if (analysis.strategy === 'ab') return 'spec.analysis.match';
  if (analysis.strategy === 'bluegreen') return 'spec.analysis.iterations';
  return analysis.stepWeights.length > 0 ? 'spec.analysis.stepWeights' : 'spec.analysis.stepWeight';
};

/**
 * What the canary asks for that the router cannot do, each naming the router and the feature. Empty
 * when the router can serve the canary as written. `path` is relative to the Canary, as in parse errors.
 */
export const checkSupport = (canary: Canary, routerName: string): Problem[] => {
  const entry = entryFor(routerName);
  if (!entry) return [{ path: 'spec.provider', rule: unknownRule(routerName) }];
  const { capabilities } = entry;
  const { analysis } = canary.spec;
  const router = `router "${routerName}"`;
  const problems: Problem[] = [];
  if (!capabilities.strategies.includes(analysis.strategy)) {
    const supported = capabilities.strategies.map((s) => STRATEGY_NAMES[s]).join(', ');
    problems.push({ path: strategyPath(canary), rule: `${router} cannot do ${STRATEGY_NAMES[analysis.strategy]}; it supports ${supported}` });
  }
  if (analysis.mirror && !capabilities.mirror) {
    problems.push({ path: 'spec.analysis.mirror', rule: `${router} cannot mirror traffic` });
  }
  if (analysis.sessionAffinity && !capabilities.sessionAffinity) {
    problems.push({ path: 'spec.analysis.sessionAffinity', rule: `${router} cannot keep session affinity` });
  }
  return [...problems, ...(entry.problems?.(canary) ?? [])];
};

export type { Router, RouterCapabilities, RouterDeps, RouterFactory, Routes } from './types.js';

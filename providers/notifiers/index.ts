/**
 * The notifier registry, by the AlertProvider `spec.type` names Flagger uses (plus `webhook`). Adding a
 * channel = one file + one entry here. An unknown type is an error listing the known ones.
 */
import { FledgeError } from '../../src/api/index.js';
import { createDiscordNotifier } from './discord.js';
import { createGChatNotifier } from './gchat.js';
import { checkProxy } from './http.js';
import { createMSTeamsNotifier } from './msteams.js';
import { createRocketNotifier } from './rocket.js';
import { createSlackNotifier } from './slack.js';
import type { Notifier, NotifierConfig, NotifierDeps, NotifierFactory } from './types.js';
import { createWebhookNotifier } from './webhook.js';

const NOTIFIERS: Readonly<Record<string, NotifierFactory>> = Object.freeze({
  slack: createSlackNotifier,
  msteams: createMSTeamsNotifier,
  discord: createDiscordNotifier,
  rocket: createRocketNotifier,
  gchat: createGChatNotifier,
  webhook: createWebhookNotifier,
});

/** The notifier types this build serves, sorted. */
export const knownNotifiers = (): string[] => Object.keys(NOTIFIERS).sort();

/**
 * The channel registered under `type`, built from its resolved config. Throws FledgeError
 * 'UnknownProvider' naming the known types, or 'InvalidSpec' when the address or the proxy cannot be used.
 */
export const createNotifier = (type: string, config: NotifierConfig, deps: NotifierDeps = {}): Notifier => {
  const factory = Object.hasOwn(NOTIFIERS, type) ? NOTIFIERS[type] : undefined;
  if (!factory) throw new FledgeError('UnknownProvider', `unknown alert provider type "${type}" (known types: ${knownNotifiers().join(', ')})`);
  if (config.proxy !== undefined) checkProxy(config.proxy);
  return factory(config, deps);
};

/**
 * Google Chat: one card, as Flagger sends it: a header naming the canary `name.namespace`, a first
 * section with the message, then one section per field (title, then the value in grey bold). The
 * header title is the provider's username ("flagger" unless set; Flagger always writes "Flagger" and
 * links its own favicon, which Fledge leaves out). Values are escaped: Chat reads them as HTML.
 */
import { checkAddress, postJson } from './http.js';
import type { Alert, NotifierFactory } from './types.js';

export interface ChatCardMessage {
  cards: Array<{
    header: { title: string; subtitle: string };
    sections: Array<{ widgets: Array<{ textParagraph: { text: string } }> }>;
  }>;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const grey = (text: string): string => `<font color=#848484><strong>${escapeHtml(text)}</strong></font>`;

const paragraph = (text: string): { widgets: Array<{ textParagraph: { text: string } }> } => ({ widgets: [{ textParagraph: { text } }] });

export const chatCard = (alert: Alert, title: string): ChatCardMessage => ({
  cards: [
    {
      header: { title, subtitle: `${alert.name}.${alert.namespace}` },
      sections: [paragraph(grey(alert.message)), ...alert.fields.map((f) => paragraph(`${escapeHtml(f.title)}<br>${grey(f.value)}`))],
    },
  ],
});

export const createGChatNotifier: NotifierFactory = (config, deps) => {
  const url = checkAddress('Google Chat', config.address).toString();
  return {
    type: 'gchat',
    async send(alert, signal) {
      await postJson(url, chatCard(alert, config.username), config, deps, signal);
    },
  };
};

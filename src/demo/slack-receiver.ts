/**
 * A stand-in for a Slack incoming webhook, for the demo: an HTTP server on a free loopback port that
 * takes what Slack takes (a JSON body, or a form body with a `payload` field, carrying `text`,
 * `attachments` and/or `blocks`), answers as Slack does (200 `ok`; 400 `invalid_payload` or `no_text`),
 * and keeps the messages in arrival order. formatSlackMessage renders one for a terminal.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessageField {
  title?: string;
  value?: string;
  short?: boolean;
}

export interface SlackMessageAttachment {
  color?: string;
  author_name?: string;
  title?: string;
  pretext?: string;
  text?: string;
  fallback?: string;
  fields?: SlackMessageField[];
  [key: string]: unknown;
}

/** A message as received; only the fields the formatter reads are typed. */
export interface SlackMessage {
  text?: string;
  channel?: string;
  username?: string;
  icon_emoji?: string;
  attachments?: SlackMessageAttachment[];
  blocks?: unknown[];
  [key: string]: unknown;
}

export interface SlackReceiver {
  /** A webhook URL to configure (any path under the server is accepted, as the secret lives in it). */
  readonly url: string;
  readonly port: number;
  /** Messages received so far, oldest first. */
  messages(): readonly SlackMessage[];
  /** Called for each message as it arrives; returns an unsubscribe function. */
  onMessage(cb: (message: SlackMessage) => void): () => void;
  close(): Promise<void>;
}

/** Bodies past this size are refused (Slack's own limit is in this range). */
const MAX_BODY_BYTES = 1024 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The message in a request body, or undefined when it is not one Slack would parse. */
const parseBody = (raw: string, contentType: string): SlackMessage | undefined => {
  let text = raw;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(raw).get('payload');
    if (payload === null) return undefined;
    text = payload;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? (parsed as SlackMessage) : undefined;
  } catch {
    return undefined;
  }
};

const hasContent = (m: SlackMessage): boolean =>
  (typeof m.text === 'string' && m.text !== '') ||
  (Array.isArray(m.attachments) && m.attachments.length > 0) ||
  (Array.isArray(m.blocks) && m.blocks.length > 0);

const reply = (res: ServerResponse, status: number, body: string): void =>
  void res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);

export const startSlackReceiver = async (): Promise<SlackReceiver> => {
  const received: SlackMessage[] = [];
  const listeners = new Set<(message: SlackMessage) => void>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') return reply(res, 405, 'invalid_method');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reply(res, 413, 'request_too_large');
      const message = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type'] ?? '');
      if (!message) return reply(res, 400, 'invalid_payload');
      if (!hasContent(message)) return reply(res, 400, 'no_text');
      received.push(message);
      // A listener that throws must not cost the sender its 200: Slack accepted the message.
      for (const cb of listeners) {
        try {
          cb(message);
        } catch {
          // ignored on purpose
        }
      }
      reply(res, 200, 'ok');
    });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/services/T0000/B0000/fledge-demo`,
    port,
    messages: () => [...received],
    onMessage(cb) {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export interface FormatOptions {
  /** Colour the attachment's marker and heading with ANSI escapes. Default false. */
  ansi?: boolean;
}

/** Slack's named colours, as a terminal user would name them; any other value (`#36a64f`) shows as is. */
const COLOUR_NAMES: Record<string, string> = { danger: 'red', warning: 'yellow', good: 'green' };
const ANSI: Record<string, string> = { red: '\u001b[31m', yellow: '\u001b[33m', green: '\u001b[32m' };
const ANSI_RESET = '\u001b[0m';

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/** The plain text of a Block Kit text object or element (mrkdwn or plain_text). */
const blockText = (value: unknown): string[] => (isObject(value) && str(value.text) ? [String(value.text)] : []);

/** Section texts and fields, header and context elements: what a reader of a Block Kit message sees. */
const blockLines = (blocks: unknown[]): string[] =>
  blocks.filter(isObject).flatMap((b) => [
    ...blockText(b.text),
    ...(Array.isArray(b.fields) ? b.fields.flatMap(blockText) : []),
    ...(b.type === 'context' && Array.isArray(b.elements) ? b.elements.flatMap(blockText) : []),
  ]);

const indent = (text: string, prefix: string): string[] => text.split('\n').map((line) => `${prefix}${line}`);

const attachmentLines = (a: SlackMessageAttachment, ansi: boolean): string[] => {
  const colour = str(a.color);
  const name = colour ? (COLOUR_NAMES[colour] ?? colour) : undefined;
  const heading = [name ? `[${name}]` : undefined, str(a.author_name), str(a.title)].filter((p) => p !== undefined).join(' ');
  const code = name ? ANSI[name] : undefined;
  const lines: string[] = [];
  if (heading !== '') lines.push(ansi && code ? `${code}${heading}${ANSI_RESET}` : heading);
  for (const text of [str(a.pretext), str(a.text) ?? (heading === '' ? str(a.fallback) : undefined)]) {
    if (text) lines.push(...indent(text, '  '));
  }
  for (const f of Array.isArray(a.fields) ? a.fields.filter(isObject) : []) {
    const title = str(f.title);
    const value = typeof f.value === 'string' ? f.value : '';
    lines.push(...indent(title ? `${title}: ${value}` : value, '  '));
  }
  return lines;
};

/**
 * One message as a few terminal lines: who sent it where, its text, then per attachment a heading
 * (colour name, author such as `podinfo.test`, title), its text and its fields as `title: value`.
 */
export const formatSlackMessage = (body: SlackMessage, opts: FormatOptions = {}): string => {
  const ansi = opts.ansi ?? false;
  const from = [str(body.username), str(body.channel) ? `in ${String(body.channel)}` : undefined].filter((p) => p !== undefined).join(' ');
  const lines = [`slack${from ? ` (${from})` : ''}:`];
  const text = str(body.text);
  if (text) lines.push(...indent(text, '  '));
  if (Array.isArray(body.blocks)) lines.push(...blockLines(body.blocks).flatMap((t) => indent(t, '  ')));
  for (const a of Array.isArray(body.attachments) ? body.attachments.filter(isObject) : []) {
    lines.push(...attachmentLines(a, ansi).map((l) => `  ${l}`));
  }
  return lines.join('\n');
};

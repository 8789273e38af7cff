/**
 * The gate endpoints of Flagger's load tester (pkg/loadtester/server.go), served by the controller
 * beside /metrics and /healthz, with the state kept in the cluster (gate-store.ts):
 *   /gate/check      200 "Approved" when the Canary's gate is open, 403 "Forbidden" otherwise
 *   /gate/open       202, opens it            /gate/close     202, closes it
 *   /gate/approve    200 "OK", always         /gate/halt      403 "Forbidden", always
 *   /rollback/check  200 "Approved" when a rollback was requested, 403 "Forbidden" otherwise
 *   /rollback/open   202, requests one        /rollback/close 202, withdraws it
 * Every stateful endpoint takes the webhook payload `{"name","namespace",...}` as its body and keys
 * the gate by the Canary's name and namespace, so a hook URL like /gate/check works unchanged.
 * Like the load tester, any method is accepted (Flagger POSTs; people use `curl -d`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GateKey, GateKind, GateStore } from './gate-store.js';

type Action = 'check' | 'open' | 'close';

const STATEFUL: Record<string, { kind: GateKind; action: Action }> = {
  '/gate/check': { kind: 'gate', action: 'check' },
  '/gate/open': { kind: 'gate', action: 'open' },
  '/gate/close': { kind: 'gate', action: 'close' },
  '/rollback/check': { kind: 'rollback', action: 'check' },
  '/rollback/open': { kind: 'rollback', action: 'open' },
  '/rollback/close': { kind: 'rollback', action: 'close' },
};

const FIXED: Record<string, [number, string]> = {
  '/gate/approve': [200, 'OK'],
  '/gate/halt': [403, 'Forbidden'],
};

/** Every path the handler answers; the controller routes these to it. */
export const GATE_PATHS: readonly string[] = [...Object.keys(STATEFUL), ...Object.keys(FIXED)];

export const isGatePath = (pathname: string): boolean => GATE_PATHS.includes(pathname);

export interface GateHandlerOptions {
  log?: Logger;
  /** Bodies are small JSON payloads; anything bigger is refused with 413. */
  maxBodyBytes?: number;
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const readBody = (req: IncomingMessage, limit: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped, so the 413 still reaches the client.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(new BadRequest(413, `request body larger than ${limit} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });

/** The Canary a payload names; both fields are needed to key the gate. */
export const gateKeyOf = (body: string): GateKey => {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (e) {
    throw new BadRequest(400, `decoding the request body failed: ${(e as Error).message}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new BadRequest(400, 'decoding the request body failed: expected a JSON object');
  }
  const { name, namespace } = payload as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new BadRequest(400, 'the payload has no "name"');
  if (typeof namespace !== 'string' || namespace === '') throw new BadRequest(400, 'the payload has no "namespace"');
  return { name, namespace };
};

const reply = (res: ServerResponse, status: number, text?: string): void => {
  if (res.headersSent) return;
  if (text === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text);
};

/** A node:http request handler for the gate paths; other paths get 404. */
export const createGateHandler = (store: GateStore, opts: GateHandlerOptions = {}): ((req: IncomingMessage, res: ServerResponse) => void) => {
  const maxBodyBytes = opts.maxBodyBytes ?? 1 << 20;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const pathname = new URL(req.url ?? '/', 'http://gates.invalid').pathname;
    const route = STATEFUL[pathname];
    if (!route) {
      // Fixed answers need no body; reading it to the end keeps the connection reusable.
      req.resume();
      const [status, text] = FIXED[pathname] ?? [404, 'Not Found'];
      return reply(res, status, text);
    }

    const key = gateKeyOf(await readBody(req, maxBodyBytes));
    const log = opts.log?.child({ canary: `${key.namespace}/${key.name}` });
    if (route.action === 'check') {
      const open = await store.isOpen(route.kind, key);
      log?.debug({ kind: route.kind, open }, `${route.kind} check`);
      return reply(res, open ? 200 : 403, open ? 'Approved' : 'Forbidden');
    }
    await store.setOpen(route.kind, key, route.action === 'open');
    log?.info({ kind: route.kind }, `${route.kind === 'gate' ? 'gate' : 'rollback'} ${route.action === 'open' ? 'opened' : 'closed'}`);
    reply(res, 202);
  };

  return (req, res) => {
    serve(req, res).catch((e: unknown) => {
      if (e instanceof BadRequest) return reply(res, e.status, e.message);
      // The store (the cluster) could not answer: a check fails closed, as any non-2xx does.
      opts.log?.error({ err: e, path: req.url }, 'gate store unavailable');
      reply(res, 500, `gate store unavailable: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
};

/**
 * A fetch that goes through an HTTP proxy (an AlertProvider's `spec.proxy`), built on node:http and
 * node:tls because Node 20's fetch has no proxy option and Fledge takes no dependency for one.
 * http:// targets are requested from the proxy in absolute form; https:// targets through a CONNECT
 * tunnel, with TLS end to end. Credentials in the proxy URL become a Basic Proxy-Authorization.
 * It serves what the notifiers send (a request with a string body), not every fetch feature.
 */
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

const defaultPort = (url: URL): number => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

const proxyAuthorization = (proxy: URL): Record<string, string> => {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
};

/** Reads a whole response into a fetch Response. */
const toResponse = (res: IncomingMessage): Promise<Response> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const status = res.statusCode ?? 502;
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
      }
      resolve(new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers }));
    });
  });

/** Sends `req` with `body` and resolves with its response. */
const exchange = (req: ClientRequest, body: string | undefined): Promise<Response> =>
  new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => void toResponse(res).then(resolve, reject));
    req.end(body);
  });

/** Opens a CONNECT tunnel through the proxy to host:port; resolves with the raw socket. */
const tunnel = (proxy: URL, target: URL, signal: AbortSignal | undefined): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const authority = `${target.hostname}:${defaultPort(target)}`;
    const req = request({
      host: proxy.hostname,
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority, ...proxyAuthorization(proxy) },
      ...(signal ? { signal } : {}),
    });
    req.on('error', reject);
    req.on('connect', (res: IncomingMessage, socket: Socket) => {
      if (res.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${res.statusCode ?? 0}`));
    });
    req.end();
  });

const headerRecord = (init: RequestInit | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => (out[name] = value));
  return out;
};

const bodyText = (init: RequestInit | undefined): string | undefined => {
  const body = init?.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'string') throw new TypeError('the proxy fetch sends string bodies only');
  return body;
};

/**
 * A fetch-shaped function that sends every request through `proxyUrl`. `tls` adds options to the
 * tunnelled TLS connection (tests pass a private CA; production uses the system's).
 */
export const proxyFetch = (proxyUrl: string, tls: ConnectionOptions = {}): typeof fetch => {
  const proxy = new URL(proxyUrl);
  if (proxy.protocol !== 'http:') throw new TypeError(`unsupported proxy scheme "${proxy.protocol.replace(/:$/, '')}": only http proxies are supported`);
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('the proxy fetch takes a URL, not a Request');
    const target = new URL(input);
    const method = init?.method ?? 'GET';
    const body = bodyText(init);
    const signal = init?.signal ?? undefined;
    const headers: OutgoingHttpHeaders = { ...headerRecord(init), Host: target.host };
    if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    if (target.protocol === 'http:') {
      const req = request({
        host: proxy.hostname,
        port: defaultPort(proxy),
        method,
        path: target.href,
        headers: { ...headers, ...proxyAuthorization(proxy) },
        ...(signal ? { signal } : {}),
      });
      return exchange(req, body);
    }
    if (target.protocol !== 'https:') throw new TypeError(`unsupported protocol scheme "${target.protocol.replace(/:$/, '')}"`);
    const raw = await tunnel(proxy, target, signal);
    const secure = tlsConnect({ ...tls, socket: raw, host: target.hostname, ...(isIP(target.hostname) ? {} : { servername: target.hostname }) });
    const req = request({
      method,
      path: `${target.pathname}${target.search}`,
      headers,
      createConnection: () => secure,
      ...(signal ? { signal } : {}),
    });
    req.on('close', () => secure.destroy());
    return exchange(req, body);
  };
};

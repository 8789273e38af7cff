/**
 * The proxy fetch behind an AlertProvider's `spec.proxy`: a loopback proxy sees an http:// alert in
 * absolute form and an https:// one as a CONNECT tunnel (TLS end to end, checked against a test CA),
 * with the proxy URL's credentials as Basic Proxy-Authorization.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { isFledgeError } from '../../src/api/index.js';
import { createNotifier } from '../../providers/notifiers/index.js';
import { proxyFetch } from '../../providers/notifiers/proxy.js';
import type { Receiver } from './notifier-receiver.js';
import { startReceiver } from './notifier-receiver.js';

// A self-signed certificate for 127.0.0.1 valid from 2000 to 2100, used only by this test.
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBXDCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAzgHEO9iqnQnYqG
4VZ7btvVIuqD5MAkyI+tqtVdtghiELs1zk4nnXIc6/hwsnCjwq8LGW/V3jNypNyr
g/zYZYmjQzBBMA8GA1UdEQQIMAaHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQUIjI4/fGAoCBK/XuzoSijJQaqvrMwCgYIKoZIzj0EAwIDSAAwRQIgaCPW
/DcfXypiAZ2bqyjv4COostTtZKIf1jzuVRU+jcICIQD0ynwJtVHn+MoNYz1jAqdE
LxAPdiA+GquX7HQtQC5CFA==
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgK9Evy/y5Loc/ANIv
5OfcbDbtArkTxGoiFrtv1DaLJM2hRANCAAQM4BxDvYqp0J2KhuFWe27b1SLqg+TA
JMiPrarVXbYIYhC7Nc5OJ51yHOv4cLJwo8KvCxlv1d4zcqTcq4P82GWJ
-----END PRIVATE KEY-----
`;

interface ProxySeen {
  method: string;
  target: string;
  authorization: string | undefined;
}

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
};

interface Proxy {
  url: string;
  seen: ProxySeen[];
  close(): Promise<void>;
}

/** A forward proxy: absolute-form requests are relayed, CONNECT opens a raw tunnel. */
const startProxy = async (): Promise<Proxy> => {
  const seen: ProxySeen[] = [];
  // Tunnels leave the server's bookkeeping (closeAllConnections misses them): track every socket.
  const sockets = new Set<{ destroy(): void }>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    const target = new URL(req.url ?? '');
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: `${target.pathname}${target.search}`, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('socket', (s) => sockets.add(s));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => sockets.add(s));
  server.on('connect', (req, socket) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    const [host, port] = (req.url ?? '').split(':');
    sockets.add(socket);
    const upstream = connect(Number(port), host ?? '', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const url = `http://${await listen(server)}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};

let rx: Receiver;
let proxy: Proxy;
let tlsServer: Server;
let tlsAddress: string;
const tlsPosts: Array<{ url: string; body: string; authorization: string | undefined }> = [];

before(async () => {
  rx = await startReceiver();
  proxy = await startProxy();
  tlsServer = createTlsServer({ cert: TEST_CERT, key: TEST_KEY }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      tlsPosts.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), authorization: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  tlsAddress = await listen(tlsServer);
});

after(async () => {
  await rx.close();
  await proxy.close();
  tlsServer.closeAllConnections();
  await new Promise((resolve) => tlsServer.close(resolve));
});

const alert = { name: 'podinfo', namespace: 'default', severity: 'info' as const, message: 'hello', fields: [] };

test('an http:// channel behind a proxy: the proxy gets the absolute URL and the credentials, the receiver the alert', async () => {
  const proxyWithUser = proxy.url.replace('http://', 'http://alerts:p%40ss@');
  const n = createNotifier('slack', { address: `${rx.url}/services/T/B/x`, channel: 'general', username: 'flagger', proxy: proxyWithUser, token: 'tok' });
  await n.send(alert, new AbortController().signal);
  assert.deepEqual(proxy.seen.at(-1), {
    method: 'POST',
    target: `${rx.url}/services/T/B/x`,
    authorization: `Basic ${Buffer.from('alerts:p@ss').toString('base64')}`,
  });
  const post = rx.posts.at(-1);
  assert.equal(post?.url, '/services/T/B/x');
  assert.equal(post?.headers.authorization, 'Bearer tok');
  assert.equal((post?.body as { attachments: Array<{ author_name: string }> }).attachments[0]?.author_name, 'podinfo.default');
});

test('an https:// channel behind a proxy goes through a CONNECT tunnel with the TLS identity checked', async () => {
  const send = proxyFetch(proxy.url, { ca: TEST_CERT });
  const res = await send(`https://${tlsAddress}/hook?x=1`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' }, body: '{"a":1}' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
  assert.deepEqual(proxy.seen.at(-1), { method: 'CONNECT', target: tlsAddress, authorization: undefined });
  assert.deepEqual(tlsPosts.at(-1), { url: '/hook?x=1', body: '{"a":1}', authorization: 'Bearer t' });
  // Without the test CA the certificate is refused: the tunnel does not weaken TLS.
  await assert.rejects(proxyFetch(proxy.url)(`https://${tlsAddress}/hook`, { method: 'POST', body: '{}' }), /self[- ]signed|unable to verify/i);
});

test('a proxy that refuses the tunnel, or is not there, fails the send as ProviderUnavailable', async () => {
  const refusing = createServer();
  const refusedSockets: Array<{ destroy(): void }> = [];
  refusing.on('connect', (_req, socket) => {
    refusedSockets.push(socket);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  const refusingUrl = `http://${await listen(refusing)}`;
  try {
    const n = createNotifier('msteams', { address: `https://${tlsAddress}/x`, channel: 'c', username: 'u', proxy: refusingUrl });
    await assert.rejects(n.send(alert, new AbortController().signal), (e) => isFledgeError(e, 'ProviderUnavailable') && /refused CONNECT .*HTTP 403/.test(e.message));
  } finally {
    for (const s of refusedSockets) s.destroy();
    refusing.closeAllConnections();
    await new Promise((resolve) => refusing.close(resolve));
  }
  const gone = createNotifier('msteams', { address: `${rx.url}/x`, channel: 'c', username: 'u', proxy: 'http://127.0.0.1:1' });
  await assert.rejects(gone.send(alert, new AbortController().signal), (e) => isFledgeError(e, 'ProviderUnavailable') && /ECONNREFUSED/.test(e.message));
});

test('an abort (the dispatcher\'s timeout) stops a request hanging behind the proxy', async () => {
  rx.answer(() => 'hang');
  try {
    const abort = new AbortController();
    const n = createNotifier('webhook', { address: `${rx.url}/slow`, channel: 'c', username: 'u', proxy: proxy.url });
    const sending = n.send(alert, abort.signal);
    const arrived = rx.posts.length;
    await rx.received(arrived + 1);
    abort.abort(new Error('timed out after 5000ms'));
    await assert.rejects(sending, (e) => isFledgeError(e, 'ProviderUnavailable') && /timed out after 5000ms/.test(e.message));
  } finally {
    rx.answer(() => 200);
  }
});

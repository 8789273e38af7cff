/**
 * Watch streams: newline-delimited JSON events over a chunked response, replayed from the store's
 * history after a resourceVersion, or starting with the current objects as ADDED when none is given.
 * Bookmarks are sent while a client asks for them; a version older than the history is an ERROR
 * event with a 410 Expired Status, which makes client-go and client-node relist.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../api/clock.js';
import { ApiError } from '../errors.js';
import { storageKey } from '../registry.js';
import type { ApiService } from '../service.js';
import type { StoreEvent, Subscription } from '../store.js';
import { toTable } from '../table.js';
import type { KubeObject, ResourceType } from '../types.js';
import { apiVersionOf } from '../types.js';
import type { QueryOptions, Representation } from './request.js';

export interface WatchDeps {
  svc: ApiService;
  clock: Clock;
  bookmarkIntervalMs: number;
  /** Open watches, so the server can end them all on close. */
  open: Set<ServerResponse>;
  /**
   * Each change rendered once per API version and shared by every plain watcher of it (fan-out to many
   * watchers otherwise serialises the same object again for each).
   */
  rendered?: WeakMap<StoreEvent, Map<string, string>>;
}

export const serveWatch = (
  deps: WatchDeps,
  type: ResourceType,
  namespace: string | undefined,
  q: QueryOptions,
  repr: Representation,
  req: IncomingMessage,
  res: ServerResponse,
): void => {
  const { svc, clock } = deps;
  const resource = storageKey(type);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  deps.open.add(res);

  let lastRv = svc.store.resourceVersion;
  let headerSent = false;
  const render = (eventType: string, object: KubeObject): string => {
    let out: unknown = svc.asVersion(type, object);
    if (repr === 'table') {
      // Column definitions go with the first event only, as the API server does.
      out = toTable(type, [svc.asVersion(type, object)], { includeObject: q.includeObject, now: svc.nowMs(), noHeaders: headerSent });
      headerSent = true;
    } else if (repr === 'partial') {
      out = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
    }
    return JSON.stringify({ type: eventType, object: out }) + '\n';
  };

  const inScope = (o: KubeObject): boolean =>
    (!type.namespaced || namespace === undefined || o.metadata.namespace === namespace) && svc.matches(o, q.labelSelector, q.fieldSelector);

  const apiVersion = apiVersionOf(type);
  const onEvent = (e: StoreEvent): void => {
    lastRv = e.rv;
    if (!inScope(e.object)) return;
    if (repr !== 'object' || !deps.rendered) return void res.write(render(e.type, e.object));
    let byVersion = deps.rendered.get(e);
    if (!byVersion) deps.rendered.set(e, (byVersion = new Map()));
    let line = byVersion.get(apiVersion);
    if (line === undefined) byVersion.set(apiVersion, (line = render(e.type, e.object)));
    res.write(line);
  };

  let sub: Subscription | undefined;
  let bookmarkTimer: unknown;
  let timeoutTimer: unknown;
  const bookmark = (annotations?: Record<string, string>): void => {
    res.write(
      JSON.stringify({
        type: 'BOOKMARK',
        object: {
          kind: type.kind,
          apiVersion: apiVersionOf(type),
          metadata: { resourceVersion: String(lastRv), ...(annotations ? { annotations } : {}) },
        },
      }) + '\n',
    );
  };

  const finish = (): void => {
    sub?.unsubscribe();
    if (bookmarkTimer !== undefined) clock.clearTimeout(bookmarkTimer);
    if (timeoutTimer !== undefined) clock.clearTimeout(timeoutTimer);
    deps.open.delete(res);
    if (!res.writableEnded) res.end();
  };
  req.on('close', finish);
  res.on('close', finish);

  const fromRv = q.resourceVersion === undefined || q.resourceVersion === '0' || q.sendInitialEvents ? undefined : Number(q.resourceVersion);
  try {
    if (fromRv === undefined) {
      const current = svc.store.list(resource, type.namespaced ? namespace : undefined).filter(inScope);
      for (const o of current) res.write(render('ADDED', o));
      if (q.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
      sub = svc.store.watch(resource, svc.store.resourceVersion, onEvent);
    } else {
      if (!Number.isFinite(fromRv)) throw new ApiError('BadRequest', `invalid resource version: ${q.resourceVersion}`);
      sub = svc.store.watch(resource, fromRv, onEvent);
    }
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError('InternalError', String(e));
    res.write(JSON.stringify({ type: 'ERROR', object: err.toStatus() }) + '\n');
    finish();
    return;
  }

  if (q.allowWatchBookmarks) {
    const tick = (): void => {
      if (res.writableEnded) return;
      bookmark();
      bookmarkTimer = clock.setTimeout(tick, deps.bookmarkIntervalMs);
    };
    bookmarkTimer = clock.setTimeout(tick, deps.bookmarkIntervalMs);
  }
  if (q.timeoutSeconds !== undefined) timeoutTimer = clock.setTimeout(finish, q.timeoutSeconds * 1000);
};

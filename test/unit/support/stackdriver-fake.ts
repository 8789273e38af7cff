/**
 * A wire-level fake of Cloud Monitoring's QueryService: a real gRPC server on loopback (plaintext) that
 * serves `google.monitoring.v3.QueryService/QueryTimeSeries` from the monitoring package's own .proto
 * files, so requests and answers cross the real protobuf encoding the client library uses. Each test
 * scripts the answers and reads back what the server received.
 *
 * grpc-js and proto-loader come through google-gax (the monitoring package's dependency), not as
 * separate imports.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GrpcClient, grpc } from 'google-gax';

/** What the fake received for one call. */
export interface ReceivedQuery {
  name: string;
  query: string;
  pageToken: string;
  /** Request metadata (headers) as the server saw them, lower-cased keys. */
  metadata: Record<string, string>;
}

/** One scripted answer: a response body, a gRPC error status, or no answer at all (until cancelled). */
export type QueryAnswer =
  | { response: Record<string, unknown> }
  | { error: { code: grpc.status; details: string } }
  | { hang: true };

export type QueryScript = (received: ReceivedQuery) => QueryAnswer;

export interface FakeQueryService {
  /** `http://127.0.0.1:<port>`: the provider's address for a plaintext endpoint. */
  readonly address: string;
  readonly received: ReceivedQuery[];
  /** Calls the client cancelled or let expire (a hung call ends this way). */
  readonly cancelled: ReceivedQuery[];
  answerWith(script: QueryScript): void;
  close(): Promise<void>;
}

const protosDirectory = (): string => {
  const require = createRequire(import.meta.url);
  // build/src/index.js -> build/protos
  return join(dirname(require.resolve('@google-cloud/monitoring')), '..', 'protos');
};

interface QueryServiceDefinition {
  service: grpc.ServiceDefinition;
}

const loadQueryService = (): grpc.ServiceDefinition => {
  const loaded = new GrpcClient({ grpc }).loadProto(protosDirectory(), 'google/monitoring/v3/query_service.proto');
  const google = loaded['google'] as unknown as { monitoring: { v3: { QueryService: QueryServiceDefinition } } };
  return google.monitoring.v3.QueryService.service;
};

const metadataRecord = (metadata: grpc.Metadata): Record<string, string> =>
  Object.fromEntries(Object.entries(metadata.getMap()).map(([key, value]) => [key, String(value)]));

export const startFakeQueryService = async (): Promise<FakeQueryService> => {
  const received: ReceivedQuery[] = [];
  const cancelled: ReceivedQuery[] = [];
  let script: QueryScript = () => ({ response: { timeSeriesData: [] } });

  const queryTimeSeries = (
    call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void => {
    const request = call.request;
    const query: ReceivedQuery = {
      name: String(request['name'] ?? ''),
      query: String(request['query'] ?? ''),
      pageToken: String(request['pageToken'] ?? ''),
      metadata: metadataRecord(call.metadata),
    };
    received.push(query);
    const answer = script(query);
    if ('hang' in answer) {
      call.on('cancelled', () => cancelled.push(query));
      return;
    }
    if ('error' in answer) {
      callback({ code: answer.error.code, details: answer.error.details });
      return;
    }
    callback(null, answer.response);
  };

  const server = new grpc.Server();
  server.addService(loadQueryService(), { queryTimeSeries });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });

  return {
    address: `http://127.0.0.1:${port}`,
    received,
    cancelled,
    answerWith: (next) => {
      script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // A hung call would hold a graceful shutdown forever; end it after a moment.
        setTimeout(() => server.forceShutdown(), 200).unref();
      }),
  };
};

/** A TimeSeriesData with one point per value (newest first, as MQL returns them). */
export const series = (labels: string[], ...values: Array<Record<string, unknown>>): Record<string, unknown> => ({
  labelValues: labels.map((label) => ({ stringValue: label })),
  pointData: values.map((value, index) => ({
    values: [value],
    timeInterval: { endTime: { seconds: String(1_700_000_000 - index * 60) } },
  })),
});

/**
 * The failure contract every metric provider keeps, run against a provider through a loopback fake:
 * timeout on the injected clock, caller abort, connection refused, 5xx and auth failures are
 * ProviderUnavailable; a body that is not the API's is InvalidResponse; and no secret reaches a message
 * even when the backend echoes it back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricProvider, ProviderDeps } from '../../../providers/metrics/types.js';
import type { FakeAnswer } from './fake-http.js';
import { closedAddress, expectFailure, manualClock, startFakeHttp, until } from './fake-http.js';

export interface ProviderSubject {
  name: string;
  /** The secret values that must never appear in a message. */
  secrets: readonly string[];
  create(address: string, deps: ProviderDeps): MetricProvider;
  query: string;
  /** A 200 answer that is not what the API promises. */
  malformed: FakeAnswer;
}

export const providerContract = (subject: ProviderSubject): void => {
  const run = (provider: MetricProvider, signal?: AbortSignal) =>
    provider.runQuery(subject.query, { intervalMs: 60_000, ...(signal ? { signal } : {}) });

  test(`${subject.name}: no answer within the timeout on the injected clock is ProviderUnavailable`, async () => {
    const fake = await startFakeHttp(() => 'hang');
    const clock = manualClock();
    try {
      const provider = subject.create(fake.url, { clock, timeoutMs: 2_000 });
      const pending = expectFailure(run(provider), 'ProviderUnavailable', subject.secrets);
      await until(() => fake.requests.length === 1);
      clock.advance(1_999);
      assert.equal(clock.pending(), 1, 'the deadline has not fired yet');
      clock.advance(1);
      const error = await pending;
      assert.match(error.message, /2000 ms/);
      assert.equal(clock.pending(), 0);
    } finally {
      await fake.close();
    }
  });

  test(`${subject.name}: the caller's abort signal ends the query as ProviderUnavailable`, async () => {
    const fake = await startFakeHttp(() => 'hang');
    const clock = manualClock();
    try {
      const provider = subject.create(fake.url, { clock });
      const controller = new AbortController();
      const pending = expectFailure(run(provider, controller.signal), 'ProviderUnavailable');
      await until(() => fake.requests.length === 1);
      controller.abort();
      assert.match((await pending).message, /aborted/);
      assert.equal(clock.pending(), 0, 'the deadline timer is released');
    } finally {
      await fake.close();
    }
  });

  test(`${subject.name}: connection refused is ProviderUnavailable and isOnline is false`, async () => {
    const provider = subject.create(await closedAddress(), { clock: manualClock() });
    const error = await expectFailure(run(provider), 'ProviderUnavailable', subject.secrets);
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(await provider.isOnline({}), false);
  });

  for (const status of [503, 401]) {
    test(`${subject.name}: ${status} is ProviderUnavailable and the echoed secrets are masked`, async () => {
      const echo = `backend says: ${subject.secrets.join(' and ')}`;
      const fake = await startFakeHttp(() => ({ status, body: echo }));
      try {
        const provider = subject.create(fake.url, { clock: manualClock() });
        const error = await expectFailure(run(provider), 'ProviderUnavailable', subject.secrets);
        assert.match(error.message, new RegExp(String(status)));
        assert.match(error.message, /backend says: \*\*\*/);
        assert.equal(await provider.isOnline({}), false);
      } finally {
        await fake.close();
      }
    });
  }

  test(`${subject.name}: a body that is not the API's is InvalidResponse`, async () => {
    const fake = await startFakeHttp(() => subject.malformed);
    try {
      const provider = subject.create(fake.url, { clock: manualClock() });
      await expectFailure(run(provider), 'InvalidResponse', subject.secrets);
    } finally {
      await fake.close();
    }
  });
};

// The benchmark's two functions done with MQTT.js 5, the same work as bench/src/lib.rs:
// one client per run (MQTT 3.1.1, clean session, unique client id and topic), subscribe to
// the client's own topic, wait for SUBACK, then measure.
//
//   latency(url, qos, count, payloadLen)    -> Promise<Float64Array> (ms, one per message)
//   throughput(url, qos, count, payloadLen) -> Promise<number> (messages per second)
//
// Needs MQTT.js's browser bundle loaded first (node_modules/mqtt/dist/mqtt.min.js, global
// `mqtt`). A failure rejects with a readable Error.

/** A whole run (connect, subscribe, every message) must finish within this. */
const RUN_DEADLINE_MS = 60_000;

/** Messages sent and received before the timed ones, as in bench/src/lib.rs. */
const WARM_UP = 10;

function tag() {
  return Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0');
}

/**
 * One client and what its handlers saw. `until(ready)` resolves once `ready()` holds, or
 * rejects with the failure or time-out that came first; handlers call `wake()`.
 */
class Probe {
  constructor(url, qos, payloadLen) {
    const id = tag();
    this.url = url;
    this.qos = qos;
    this.topic = `eda-bench/js/${id}`;
    this.received = 0;
    this.wanted = 0;
    this.failure = null;
    this.timedOut = false;
    this.wake = null;
    this.closing = false;
    this.deadline = setTimeout(() => {
      this.timedOut = true;
      this.wake?.();
    }, RUN_DEADLINE_MS);

    this.client = mqtt.connect(url, {
      protocolVersion: 4,
      clientId: `bench-js-${id}`,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    this.client.on('message', (topic, payload) => {
      if (topic !== this.topic || payload.length !== payloadLen) {
        this.fail(`unexpected message: ${payload.length} bytes on ${topic}`);
        return;
      }
      this.received += 1;
      // Wake only when the awaited count is reached: one resumption per wait.
      if (this.received >= this.wanted) this.wake?.();
    });
    this.client.on('error', (error) => this.fail(error.message));
    this.client.on('close', () => {
      if (!this.closing) this.fail(`lost the connection to ${url}`);
    });
  }

  fail(reason) {
    this.failure ??= reason;
    this.wake?.();
  }

  until(ready, doing) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let stop = null;
        if (this.failure) stop = this.failure;
        else if (ready()) {
          this.wake = null;
          resolve();
          return;
        } else if (this.timedOut) stop = `not done within ${RUN_DEADLINE_MS / 1000} s`;
        else return;
        this.wake = null;
        const where = `${this.topic} (QoS ${this.qos}, ${this.received} received so far)`;
        reject(new Error(`MQTT.js, ${doing} on ${where}: ${stop}`));
      };
      this.wake = check;
      check();
    });
  }

  async subscribe() {
    let subscribed = false;
    this.client.subscribe(this.topic, { qos: this.qos }, (error, granted) => {
      if (error) this.fail(`subscribe failed: ${error.message}`);
      else if (granted?.[0]?.qos !== this.qos)
        this.fail(`the broker answered the subscription with ${JSON.stringify(granted)}`);
      else {
        subscribed = true;
        this.wake?.();
      }
    });
    await this.until(() => subscribed, `subscribing via ${this.url}`);
  }

  publish(payload) {
    this.client.publish(this.topic, payload, { qos: this.qos, retain: false });
  }

  receivedAll(count) {
    this.wanted = count;
    return this.until(() => this.received >= count, `waiting for ${count} messages`);
  }

  close() {
    this.closing = true;
    clearTimeout(this.deadline);
    this.client.end(true);
  }
}

async function withProbe(url, qos, payloadLen, run) {
  if (![0, 1, 2].includes(qos)) throw new Error(`QoS must be 0, 1 or 2, not ${qos}`);
  const probe = new Probe(url, qos, payloadLen);
  try {
    await probe.subscribe();
    return await run(probe);
  } finally {
    probe.close();
  }
}

export function latency(url, qos, count, payloadLen) {
  return withProbe(url, qos, payloadLen, async (probe) => {
    const payload = 'x'.repeat(payloadLen);
    const samples = new Float64Array(count);
    for (let i = 0; i < WARM_UP + count; i++) {
      const start = performance.now();
      probe.publish(payload);
      await probe.receivedAll(i + 1);
      const elapsed = performance.now() - start;
      if (i >= WARM_UP) samples[i - WARM_UP] = elapsed;
    }
    return samples;
  });
}

export function throughput(url, qos, count, payloadLen) {
  if (count < 1) return Promise.reject(new Error('throughput needs at least one message'));
  return withProbe(url, qos, payloadLen, async (probe) => {
    const payload = 'x'.repeat(payloadLen);
    const start = performance.now();
    for (let i = 0; i < count; i++) probe.publish(payload);
    await probe.receivedAll(count);
    const seconds = (performance.now() - start) / 1000;
    return count / Math.max(seconds, Number.EPSILON);
  });
}

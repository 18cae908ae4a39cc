// An independent observer of the order flow: MQTT.js over plain TCP to the test broker,
// sharing no code with the app.
//
//   const witness = await startWitness({ tcpPort: broker.tcpPort });
//   const msg = await witness.waitFor((m) => m.topic === 'payments/processed', 15_000);
//   await witness.publish('orders/created', json, { qos: 1 });
//   await witness.roundTrip();  // a sentinel through the broker and back
//   await witness.close();

import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';

export const FLOW_TOPICS = ['orders/created', 'payments/processed', 'inventory/reserved'];

const SENTINEL_PREFIX = 'e2e-witness/sentinel/';

export async function startWitness({
  tcpPort,
  host = '127.0.0.1',
  topics = FLOW_TOPICS,
  protocolVersion = 4,
  // MQTT 5 only: the broker forwards each message with the RETAIN flag it was published with
  // (Retain As Published, §3.8.3.1), so a live retained publication can be told from another.
  retainAsPublished = false,
} = {}) {
  // Deliberately not of the form eda-<hex>-<service> that the app's clients use.
  const clientId = `e2e-witness-${randomUUID().slice(0, 8)}`;
  const sentinelTopic = `${SENTINEL_PREFIX}${clientId}`;
  const client = mqtt.connect(`mqtt://${host}:${tcpPort}`, {
    clientId,
    clean: true,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });

  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
    client.once('close', () => reject(new Error(`witness could not connect to ${host}:${tcpPort}`)));
  });
  client.on('error', () => {}); // reported through failing waits, not as an uncaught error

  /** Every message on the flow topics, in arrival order: { topic, payload (text), bytes, json }. */
  const messages = [];
  const waiters = new Set();
  const sentinelWaiters = new Map();

  client.on('message', (topic, buffer, packet) => {
    const payload = buffer.toString('utf8');
    if (topic === sentinelTopic) {
      sentinelWaiters.get(payload)?.();
      return;
    }
    let json = null;
    try {
      json = JSON.parse(payload);
    } catch {
      json = null;
    }
    // MQTT 5 only: the user properties, as MQTT.js decodes them ({ name: value }).
    const userProperties = packet?.properties?.userProperties ?? {};
    const message = { topic, payload, bytes: Buffer.from(buffer), json, userProperties, retain: packet?.retain ?? false, receivedAt: Date.now() };
    messages.push(message);
    for (const waiter of waiters) waiter(message);
  });

  await client.subscribeAsync([...topics, sentinelTopic], { qos: 1, ...(retainAsPublished && { rap: true }) });

  const describe = () =>
    messages.length === 0
      ? '(none)'
      : messages.map((m) => `  ${m.topic}: ${m.payload}`).join('\n');

  /**
   * Resolves with the first message (already received or arriving) that `predicate` matches;
   * it is asked of each message. A predicate of no parameter (`() => …some(…)`) is a condition:
   * asked now and after each message, it says when, and the promise resolves with `undefined`
   * (not with whichever message happened to come, which a caller could take for the one it
   * looked for).
   */
  const waitFor = (predicate, timeoutMs = 15_000, what = 'a matching message') => {
    const condition = predicate.length === 0;
    const match = (message) => {
      if (condition) return predicate() ? { found: undefined } : null;
      return predicate(message) ? { found: message } : null;
    };
    const first = condition ? undefined : messages.find(predicate);
    const already = condition ? match() : first && { found: first };
    if (already) return Promise.resolve(already.found);
    return new Promise((resolve, reject) => {
      const waiter = (message) => {
        const matched = match(message);
        if (!matched) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve(matched.found);
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`witness: no ${what} within ${timeoutMs} ms; messages seen:\n${describe()}`),
        );
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  /** The first message on `topic` whose JSON has this orderId. */
  const waitForOrder = (topic, orderId, timeoutMs = 15_000) =>
    waitFor(
      (m) => m.topic === topic && m.json?.orderId === orderId,
      timeoutMs,
      `${topic} message for order ${orderId}`,
    );

  // `properties`: MQTT 5 only, as MQTT.js takes them (`{ userProperties: { name: value } }`).
  const publish = (topic, payload, { qos = 1, retain = false, properties } = {}) =>
    client.publishAsync(topic, payload, { qos, retain, ...(properties && { properties }) });

  /**
   * Publishes a unique sentinel on the witness's own topic and resolves when it comes back:
   * anything the broker had already routed to this witness has arrived by then.
   */
  const roundTrip = (timeoutMs = 10_000) => {
    const token = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sentinelWaiters.delete(token);
        reject(new Error(`witness: sentinel did not come back within ${timeoutMs} ms`));
      }, timeoutMs);
      sentinelWaiters.set(token, () => {
        sentinelWaiters.delete(token);
        clearTimeout(timer);
        resolve();
      });
      publish(sentinelTopic, token, { qos: 1 }).catch((error) => {
        sentinelWaiters.delete(token);
        clearTimeout(timer);
        reject(error);
      });
    });
  };

  const close = async () => {
    for (const waiter of waiters) waiters.delete(waiter);
    await client.endAsync();
  };

  return { clientId, messages, waitFor, waitForOrder, publish, roundTrip, describe, close };
}

// The independent side of the interoperability tests: MQTT.js in Node, over plain TCP, sharing
// no code with our client. Records every message with its flags and MQTT 5.0 properties.
//
//   const peer = await connectPeer({ tcpPort: broker.tcpPort, version: 5 });
//   await peer.subscribe('t/#', 2);
//   const m = await peer.waitFor((m) => m.topic === 't/1');
//   // m: { topic, payload (a Buffer), qos, retain, dup, properties (MQTT.js's, 5.0) }
//   await peer.publish('t/2', 'hi', { qos: 1, properties: { userProperties: { a: '1' } } });
//   await peer.roundTrip();   // a sentinel through the broker and back: whatever was routed to
//                             // this peer before it has arrived by then
//   await peer.close();

import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';

const WAIT_MS = 10_000;

/** One line per message, for failure messages. */
export function describeMessages(messages) {
  if (messages.length === 0) return '  (none)';
  return messages
    .map(
      (m) =>
        `  ${m.topic} q${m.qos} r${m.retain ? 1 : 0} d${m.dup ? 1 : 0}: ` +
        `${JSON.stringify(m.payload.toString('utf8'))}`,
    )
    .join('\n');
}

/**
 * Connects MQTT.js (`version` 4 for 3.1.1, 5 for 5.0) and resolves once the broker accepted it.
 */
export async function connectPeer({ tcpPort, host = '127.0.0.1', version = 4 }) {
  const clientId = `peer-${randomUUID().slice(0, 8)}`;
  const sentinelTopic = `interop-peer/sentinel/${clientId}`;
  const client = await mqtt.connectAsync(`mqtt://${host}:${tcpPort}`, {
    clientId,
    protocolVersion: version,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
  });
  client.on('error', () => {}); // reported through failing waits, not as an uncaught error

  /** Every message but the sentinels, in arrival order. */
  const messages = [];
  const waiters = new Set();
  const sentinels = new Map();

  client.on('message', (topic, payload, packet) => {
    if (topic === sentinelTopic) {
      sentinels.get(payload.toString('utf8'))?.();
      return;
    }
    const message = {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      properties: packet.properties ?? {},
    };
    messages.push(message);
    for (const waiter of waiters) waiter();
  });

  await client.subscribeAsync(sentinelTopic, { qos: 1 });

  /** Resolves with the matching messages once there are `count` of them. */
  const waitForAll = (predicate, { count = 1, waitMs = WAIT_MS, what = 'messages' } = {}) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.filter(predicate);
        if (found.length < count) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `MQTT.js ${clientId}: not ${count} ${what} within ${waitMs} ms; ` +
              `it received:\n${describeMessages(messages)}`,
          ),
        );
      }, waitMs);
      waiters.add(check);
      check();
    });

  return {
    clientId,
    client,
    messages,
    waitForAll,
    /** The first matching message. */
    waitFor: async (predicate, options) => (await waitForAll(predicate, options))[0],
    /** Messages on `topic` so far. */
    on: (topic) => messages.filter((m) => m.topic === topic),
    /** Subscribes and resolves with the granted QoS (or 128 for a refusal). */
    async subscribe(filter, qos, options = {}) {
      const [grant] = await client.subscribeAsync(filter, { qos, ...options });
      return grant.qos;
    },
    /** Resolves once the broker has acknowledged it (at QoS 1 and 2). */
    publish: (topic, payload, { qos = 0, retain = false, properties } = {}) =>
      client.publishAsync(topic, payload, { qos, retain, ...(properties && { properties }) }),
    /**
     * Publishes a unique sentinel on the peer's own topic and resolves when it comes back:
     * whatever the broker had routed to this peer before has arrived by then.
     */
    roundTrip(waitMs = WAIT_MS) {
      const token = randomUUID();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          sentinels.delete(token);
          const why = `the sentinel did not come back within ${waitMs} ms`;
          reject(new Error(`MQTT.js ${clientId}: ${why}`));
        }, waitMs);
        sentinels.set(token, () => {
          sentinels.delete(token);
          clearTimeout(timer);
          resolve();
        });
        client.publishAsync(sentinelTopic, token, { qos: 1 }).catch((error) => {
          sentinels.delete(token);
          clearTimeout(timer);
          reject(error);
        });
      });
    },
    close: () => client.endAsync(),
  };
}

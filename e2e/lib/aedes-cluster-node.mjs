// One node of a clustered MQTT broker: aedes (npm) whose messages travel through Redis
// (mqemitter-redis) and whose sessions, subscriptions and retained messages live in Redis
// (aedes-persistence-redis), so that two or more such processes on one Redis act as one broker:
// a client of node A receives what a client of node B publishes.
//
//   node e2e/lib/aedes-cluster-node.mjs <name> <redisPort> <tcpPort> <wsPort> [host]
//
// Listens for plain MQTT on <host>:<tcpPort> and MQTT over WebSocket (subprotocol `mqtt`, any
// path) on <host>:<wsPort>; host defaults to 127.0.0.1. Prints "cluster node <name> ready
// tcp=<port> ws=<port>" once both listen, then one line per client event ("client connected
// <id>", "publish from <id> <topic> q1 r0", …) for scripts and tests to wait on. Used by
// scripts/cluster and e2e/lib/aedes-cluster.mjs.
//
// What aedes 1.2.0 does not do, said plainly instead of faked:
// - MQTT 5.0: a CONNECT with protocol level 5 is answered with CONNACK return code 1
//   (unacceptable protocol version); use MQTT 3.1.1.
// - Shared subscriptions: aedes has no `$share/<group>/<filter>`; it would take such a filter
//   as an ordinary one that no topic matches, and the group would silently receive nothing.
//   This node refuses them instead (SUBACK 0x80, and a "refused shared subscription" line), so
//   a client, and the page's competing consumers, can say why.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

import { Aedes } from 'aedes';
import persistenceRedis from 'aedes-persistence-redis';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { createWebSocketStream } from 'ws';

import { logClientEvents, mqttWebSocketServer } from './aedes-common.mjs';

const [name, redisPort, tcpPort, wsPort] = process.argv.slice(2, 6);
const host = process.argv[6] ?? '127.0.0.1';
if (!name || !Number(redisPort) || !Number(tcpPort) || !Number(wsPort)) {
  console.error('usage: node e2e/lib/aedes-cluster-node.mjs <name> <redisPort> <tcpPort> <wsPort> [host]');
  process.exit(2);
}

// Redis unreachable: every connection retries (ioredis: every 50 ms more, at most 2 s apart) and
// holds what the node asks of Redis until it answers, however long (`maxRetriesPerRequest: null`),
// so a Redis stopped and started again delays the cluster's traffic instead of ending the node.
const redis = { host: '127.0.0.1', port: Number(redisPort), maxRetriesPerRequest: null };
const mq = mqemitterRedis(redis);
// The store's own connection (ioredis, the client both packages use), made here so that its
// errors reach `watchRedis` instead of ioredis' "Unhandled error event".
const store = new Redis(redis);
const persistence = persistenceRedis({ conn: store });
storeEachSubscribeOnce(persistence);
watchRedis([mq.subConn, mq.pubConn, store], mq.state);
// A node that dies cannot publish its clients' Wills; another node does, once it has missed the
// dead node's heartbeat (`$SYS/<id>/heartbeat`) for 3 intervals, at its next look (every 4
// intervals): with 1 s, 3 to 7 s after the death (aedes' default, 1 min, would take 3 to 7 min).
const HEARTBEAT_MS = 1_000;
const aedes = await Aedes.createBroker({
  id: `eda-cluster-${name}`,
  mq,
  persistence,
  heartbeatInterval: HEARTBEAT_MS,
});
aedes.on('error', (error) => console.log(`broker error ${error.message}`));
dedupeByPacket(aedes);
aliveFromBirth(aedes, mq);

/**
 * A work-around for a race of aedes 1.2.0 in a cluster: a node counts another as alive from its
 * first heartbeat only (1 interval after its start), and forgets it once it has missed 3. A node
 * restarted under the same id is forgotten by then, and its clients connect at once: a sweep of
 * the other node's (every 4 intervals) falling before that first heartbeat took their stored
 * Wills for a dead node's and published them while they were connected. Seen in CI:
 * PaymentService, connected to node B restarted a moment before, read offline for good on
 * node A. Counting a node alive from its birth message, which it publishes as it starts, before
 * it listens, closes that window.
 */
function aliveFromBirth(broker, emitter) {
  emitter.on('$SYS/+/birth', (packet, done) => {
    broker.brokers[packet.payload.toString()] = Date.now();
    done();
  });
}

/**
 * Says once when Redis stops answering ("redis unreachable at 127.0.0.1:<port> (…): holding the
 * cluster's traffic until it is back; start it again: redis-server --port <port> …") and once
 * when every connection is back ("redis back"), for the log and for scripts/cluster. `emitter`
 * is mqemitter-redis' state, which re-emits its connections' errors (unhandled, they would end
 * the process).
 */
function watchRedis(connections, emitter) {
  let down = false;
  const lost = (error) => {
    if (down) return;
    down = true;
    console.log(
      `redis unreachable at 127.0.0.1:${redisPort} (${error?.message ?? 'closed'}): holding the ` +
        `cluster's traffic until it is back; start it again: redis-server --port ${redisPort} ` +
        `--bind 127.0.0.1 --save '' --appendonly no (it keeps nothing in memory across a ` +
        `restart: retained messages and persistent sessions start empty)`,
    );
  };
  emitter.on('error', lost);
  for (const connection of connections) {
    connection.on('error', lost);
    connection.on('ready', () => {
      if (down && connections.every((c) => c.status === 'ready')) {
        down = false;
        console.log('redis back');
      }
    });
  }
}

/**
 * A work-around for a bug of aedes 1.2.0 with a broadcasting store such as Redis's: for a
 * SUBSCRIBE of a persistent session (clean session 0) aedes stores the packet's whole list of
 * filters once per filter, all at once (lib/handlers/subscribe.js, storeSubscriptions), and the
 * store's broadcast (aedes-persistence's broadcastPersistence.js) waits for its echo under a key
 * made of the client id and the list's first filter: each call replaces the previous one's
 * waiter, so all but one never finish and a SUBSCRIBE of two or more filters gets no SUBACK.
 * (Seen here: MQTT.js, clean false, two filters in one SUBSCRIBE, no SUBACK; one filter, or a
 * clean session, is answered.) Storing each packet's list once, and answering every call with
 * that one result, changes nothing else.
 */
function storeEachSubscribeOnce(store) {
  const add = store.addSubscriptions.bind(store);
  const stored = new WeakMap(); // the packet's list of subscriptions → its one store operation
  store.addSubscriptions = (client, subs) => {
    if (!stored.has(subs)) stored.set(subs, add(client, subs));
    return stored.get(subs);
  };
}

/**
 * A work-around for a bug of aedes 1.2.0 that loses messages on a cluster, for every
 * subscriber at any QoS. aedes numbers each message it takes (its broker id and a counter,
 * `brokerCounter`, assigned when the PUBLISH arrives) and drops, per client, any message whose
 * number is not above the highest it delivered from that broker (lib/client.js, dedupe): meant
 * to deliver once a message matching two of a client's filters. But a QoS 1 or 2 message is
 * first stored for every persistent session subscribed to it (aedes.js, enqueueOffline; with
 * aedes-persistence-redis one Redis round trip per session) and only then handed to the
 * emitter, while a message with no such session goes at once: a later number overtakes an
 * earlier one, and every client of every node then drops the earlier one. Seen here: a QoS 0
 * subscriber to `#` received 0 of 10 `orders/cancelled` (which PaymentService's and
 * InventoryService's persistent sessions subscribe to) published between 10 `eventstore/…`
 * (which none do), and all 10 of those (e2e/app/cluster.test.mjs). This keeps aedes' own
 * dedupe but has it ask whether this very message was delivered to the client, not whether
 * one with a higher number was: each client gets a `duplicates` that answers for the message
 * being delivered from the numbers of the last DEDUPE_WINDOW messages it took from that
 * broker. Forgetting them on a node's birth, as aedes does, stays (a restarted node counts
 * from 0 again).
 */
function dedupeByPacket(broker) {
  const DEDUPE_WINDOW = 1_000;
  const handle = broker.handle;
  broker.handle = (conn, req) => {
    const client = handle(conn, req);
    let delivering = null; // the message being handed to this client (aedes reads synchronously)
    const delivered = new Map(); // broker id → the numbers of its messages delivered lately
    client.duplicates = new Proxy(Object.create(null), {
      // aedes delivers when `(duplicates[brokerId] || 0) < brokerCounter`.
      get: (_, brokerId) => {
        const counter = delivering?.brokerCounter;
        return delivered.get(brokerId)?.has(counter) ? counter : 0;
      },
      set: (_, brokerId, counter) => {
        let numbers = delivered.get(brokerId);
        if (!numbers) delivered.set(brokerId, (numbers = new Set()));
        numbers.add(counter);
        if (numbers.size > DEDUPE_WINDOW) numbers.delete(numbers.values().next().value);
        return true;
      },
      deleteProperty: (_, brokerId) => delivered.delete(brokerId) || true,
    });
    for (const name of ['deliver0', 'deliverQoS']) {
      const deliver = client[name];
      client[name] = (packet, callback) => {
        const outer = delivering;
        delivering = packet;
        try {
          return deliver(packet, callback);
        } finally {
          delivering = outer;
        }
      };
    }
    return client;
  };
}

aedes.authorizeSubscribe = (client, subscription, callback) => {
  if (subscription.topic.startsWith('$share/')) {
    console.log(`refused shared subscription ${client?.id} ${subscription.topic}`);
    return callback(null, null);
  }
  callback(null, subscription);
};
logClientEvents(aedes);

const tcp = createTcpServer(aedes.handle);
const http = createHttpServer();
const wss = mqttWebSocketServer(http);
wss.on('connection', (socket, request) => aedes.handle(createWebSocketStream(socket), request));

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), host, resolve);
  });
try {
  await listen(tcp, tcpPort);
  await listen(http, wsPort);
} catch (error) {
  console.error(`cluster node ${name}: ${error.message}`);
  process.exit(1);
}
console.log(`cluster node ${name} ready tcp=${tcpPort} ws=${wsPort}`);

/**
 * Publishes the Will of every client still connected (none sent DISCONNECT: the node is the one
 * ending their connections, MQTT 3.1.1 §3.1.2.5), each as aedes would, and waits until each is
 * through Redis. aedes' own close publishes them too, but closes the emitter's Redis connection
 * without waiting for them, and then deletes them from the store: they were lost on every clean
 * stop of a node.
 */
async function publishWills() {
  await Promise.all(
    Object.values(aedes.clients).map(async (client) => {
      const will = client.will;
      if (!will || client._disconnected) return;
      client.will = null; // aedes' close then neither publishes it again nor deletes it
      await new Promise((resolve) => aedes.publish(will, client, resolve));
      console.log(`will published for ${client.id} ${will.topic}`);
      await aedes.persistence.delWill({ id: client.id, brokerId: aedes.id }).catch(() => {});
    }),
  );
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3_000).unref();
  wss.close();
  tcp.close();
  http.close();
  await publishWills();
  // aedes.close() closes the broker and its emitter's Redis connection; then the store's.
  aedes.close(() => persistence.destroy(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

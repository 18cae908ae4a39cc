// A second, independent MQTT broker for the interoperability tests: aedes (npm), with a plain
// TCP listener and a WebSocket listener, run as its own process so a test can kill it.
//
//   node e2e/lib/aedes-server.mjs <tcpPort> <wsPort> [wsPath]
//
// With a wsPath (e.g. /mqtt, as EMQX, HiveMQ, VerneMQ and NanoMQ serve MQTT over WebSocket)
// the WebSocket listener answers there only: an upgrade at another path is refused with an
// HTTP error, which a browser reports as a close without a handshake.
//
// Prints "aedes ready tcp=<port> ws=<port>" once both listen, and one line per client event
// ("client connected <id>", "client disconnected <id>", "publish from <id> <topic> q1 r0", …)
// for tests to wait on (e2e/lib/aedes.mjs starts it).
//
// Subscriptions to filters under `denied/` are refused (SUBACK 0x80), so that tests can see how
// a client reports a refusal.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

import { Aedes } from 'aedes';
import { createWebSocketStream } from 'ws';

import { logClientEvents, mqttWebSocketServer } from './aedes-common.mjs';

const [tcpPort, wsPort] = process.argv.slice(2, 4).map(Number);
const wsPath = process.argv[4];
if (!tcpPort || !wsPort) {
  console.error('usage: node e2e/lib/aedes-server.mjs <tcpPort> <wsPort>');
  process.exit(2);
}

const DENIED_PREFIX = 'denied/';

const aedes = await Aedes.createBroker();
aedes.authorizeSubscribe = (client, subscription, callback) =>
  callback(null, subscription.topic.startsWith(DENIED_PREFIX) ? null : subscription);
logClientEvents(aedes);

const tcp = createTcpServer(aedes.handle);
const http = createHttpServer();
const wss = mqttWebSocketServer(http, wsPath);
wss.on('connection', (socket, request) => {
  const client = aedes.handle(createWebSocketStream(socket), request);
  socket.on('message', wireTap(() => client.id ?? '(connecting)'));
});

const KINDS = [
  'reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH',
];

/**
 * Logs each packet a WebSocket client sends ("wire from <id> PUBACK 7"): the broker's side of
 * the wire, as Mosquitto's `log_type all` shows it, so tests can check the acknowledgements a
 * client sends (aedes's own 'ack' event does not say which message). MQTT framing only: a type
 * byte and a variable-length remaining length, whatever the frames.
 */
function wireTap(clientId) {
  let pending = Buffer.alloc(0);
  return (frame) => {
    pending = Buffer.concat([pending, frame]);
    for (;;) {
      let length = 0;
      let i = 1;
      for (; i < pending.length && i <= 4; i++) {
        length += (pending[i] & 0x7f) * 128 ** (i - 1);
        if ((pending[i] & 0x80) === 0) break;
      }
      if (i >= pending.length || pending.length < i + 1 + length) return;
      const type = pending[0] >> 4;
      const body = pending.subarray(i + 1, i + 1 + length);
      // The packet identifier leads the acknowledgements, SUBSCRIBE and UNSUBSCRIBE.
      const hasId = [4, 5, 6, 7, 8, 10].includes(type) && body.length >= 2;
      const id = hasId ? ` ${body.readUInt16BE(0)}` : '';
      console.log(`wire from ${clientId()} ${KINDS[type]}${id}`);
      pending = pending.subarray(i + 1 + length);
    }
  };
}

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
await listen(tcp, tcpPort);
await listen(http, wsPort);
console.log(`aedes ready tcp=${tcpPort} ws=${wsPort}`);
http.on('upgrade', (request) => {
  const path = new URL(request.url, 'http://x').pathname;
  if (wsPath && path !== wsPath) console.log(`upgrade refused at ${request.url}`);
});

const stop = () => {
  wss.close();
  tcp.close();
  http.close();
  aedes.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

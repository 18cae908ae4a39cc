// What the test brokers built on aedes share (aedes-server.mjs, one broker; aedes-cluster-node.mjs,
// one node of a cluster): one log line per client event, for tests to wait on, and a WebSocket
// server that answers the `mqtt` subprotocol.

import { WebSocketServer } from 'ws';

/**
 * Prints one line per client event of `aedes`: "client connected <id>", "client disconnected
 * <id>", "client error <id> …", "connection error <id> …", "subscribe <id> <topic>@<qos> …",
 * "publish from <id> <topic> q1 r0".
 */
export function logClientEvents(aedes) {
  aedes.on('client', (client) => console.log(`client connected ${client.id}`));
  aedes.on('clientDisconnect', (client) => console.log(`client disconnected ${client.id}`));
  aedes.on('clientError', (client, error) =>
    console.log(`client error ${client?.id} ${error.message}`),
  );
  aedes.on('connectionError', (client, error) =>
    console.log(`connection error ${client?.id} ${error.message}`),
  );
  aedes.on('subscribe', (subs, client) =>
    console.log(`subscribe ${client?.id} ${subs.map((s) => `${s.topic}@${s.qos}`).join(' ')}`),
  );
  aedes.on('publish', (packet, client) => {
    if (client) console.log(`publish from ${client.id} ${packet.topic} q${packet.qos} r${packet.retain ? 1 : 0}`);
  });
}

/**
 * A WebSocket server on the HTTP server `server` that answers the `mqtt` subprotocol the browser
 * asks for (Chromium refuses a WebSocket whose answer lacks it); only at `path`, if given.
 */
export function mqttWebSocketServer(server, path) {
  return new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    ...(path ? { path } : {}),
  });
}

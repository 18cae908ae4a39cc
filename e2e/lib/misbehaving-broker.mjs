// Brokers that misbehave, for the page to meet: tiny WebSocket servers (subprotocol mqtt) on a
// free port of 127.0.0.1, written here so a test can make a broker do what Mosquitto never does.
//
//   const fake = await startAcceptThenClose({ closeAfterMs: 50 });   // CONNACK, then a dead socket
//   const picky = await startRefusingAllBut((clientId) => clientId.endsWith('-order'));
//   fake.wsUrl; fake.connects;                                       // [{ clientId, at }], in order
//   await fake.waitForConnects((c) => c.filter(…).length >= 4, 20_000);
//
//   const proxy = await startTamperingProxy({                        // a real broker behind it
//     upstream: broker.wsUrl,
//     fromBroker: (packet, conn) => packet,    // a Buffer (one whole MQTT packet); null drops it
//   });
//   conn: { clientId, version (4 or 5), subscribes: Map(packetId → [filters]),
//           toClient(packet) → whether it went: to send later a packet a hook held back }
//   proxy.connects, proxy.waitForConnects(…)                         // as the fake's
//
//   await fake.close(); await proxy.close();
//
// The packets are cut from the byte stream by their fixed header (a WebSocket frame may hold
// part of one, or several), so a hook always sees one whole packet.

import net from 'node:net';

import { WebSocket, WebSocketServer } from 'ws';

/** Whole MQTT packets out of a byte stream cut anywhere: call with each chunk. */
export function packetFramer(onPacket) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; ; i++) {
        if (i >= pending.length) return;
        length += (pending[i] & 0x7f) * multiplier;
        multiplier *= 128;
        if ((pending[i] & 0x80) === 0) break;
        if (i === 4) throw new Error('malformed remaining length');
      }
      const total = i + 1 + length;
      if (pending.length < total) return;
      const packet = pending.subarray(0, total);
      pending = pending.subarray(total);
      onPacket(packet);
    }
  };
}

/** Where the variable header starts: after the type byte and the remaining length. */
export function bodyStart(packet) {
  let i = 1;
  while (packet[i] & 0x80) i++;
  return i + 1;
}

/** A Variable Byte Integer at `at`: [value, bytes used]. */
function varInt(buffer, at) {
  let value = 0;
  let multiplier = 1;
  let i = at;
  for (;;) {
    value += (buffer[i] & 0x7f) * multiplier;
    multiplier *= 128;
    if ((buffer[i++] & 0x80) === 0) return [value, i - at];
  }
}

/** A CONNECT's protocol level (4 or 5) and client id. */
export function readConnect(packet) {
  let at = bodyStart(packet);
  at += 2 + packet.readUInt16BE(at); // protocol name
  const version = packet[at];
  at += 1 + 1 + 2; // level, flags, keep alive
  if (version === 5) {
    const [length, used] = varInt(packet, at);
    at += used + length;
  }
  const idLength = packet.readUInt16BE(at);
  return { version, clientId: packet.subarray(at + 2, at + 2 + idLength).toString('utf8') };
}

/** A SUBSCRIBE's packet id and filters. */
export function readSubscribe(packet, version) {
  let at = bodyStart(packet);
  const packetId = packet.readUInt16BE(at);
  at += 2;
  if (version === 5) {
    const [length, used] = varInt(packet, at);
    at += used + length;
  }
  const filters = [];
  while (at < packet.length) {
    const length = packet.readUInt16BE(at);
    filters.push(packet.subarray(at + 2, at + 2 + length).toString('utf8'));
    at += 2 + length + 1;
  }
  return { packetId, filters };
}

/** Where a SUBACK's codes start, and its packet id. */
export function subAckCodes(packet, version) {
  let at = bodyStart(packet);
  const packetId = packet.readUInt16BE(at);
  at += 2;
  if (version === 5) {
    const [length, used] = varInt(packet, at);
    at += used + length;
  }
  return { packetId, codesAt: at };
}

/** A PUBLISH's topic. */
export function publishTopic(packet) {
  const at = bodyStart(packet);
  return packet.subarray(at + 2, at + 2 + packet.readUInt16BE(at)).toString('utf8');
}

async function listen(onConnection) {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('connection', onConnection);
  return {
    server,
    wsUrl: `ws://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `predicate(list)` holds, checking on every change; rejects after `timeoutMs`. */
export function waiter(list) {
  const waiting = new Set();
  return {
    changed: () => {
      for (const w of waiting) w();
    },
    wait: (predicate, timeoutMs, what) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(list)) return;
          waiting.delete(check);
          clearTimeout(timer);
          resolve(list);
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`${what} within ${timeoutMs} ms; seen: ${JSON.stringify(list)}`));
        }, timeoutMs);
        waiting.add(check);
        check();
      }),
  };
}

/**
 * A "broker" that hands each CONNECT to `onConnect(socket, { version, clientId })` and answers
 * nothing else; `connects` lists every CONNECT with its client id and time (ms), and
 * `waitForConnects(predicate, timeoutMs)` waits for that list to pass `predicate`.
 */
async function startAnsweringConnect(onConnect) {
  const connects = [];
  const changes = waiter(connects);
  const { wsUrl, close } = await listen((socket) => {
    const frame = packetFramer((packet) => {
      if (packet[0] >> 4 !== 1) return; // only CONNECT is answered
      const connect = readConnect(packet);
      connects.push({ clientId: connect.clientId, at: Date.now() });
      changes.changed();
      onConnect(socket, connect);
    });
    socket.on('message', (data) => frame(Buffer.from(data)));
    socket.on('error', () => {});
  });
  return {
    wsUrl,
    connects,
    waitForConnects: (predicate, timeoutMs) =>
      changes.wait(predicate, timeoutMs, 'the fake broker did not see the CONNECTs expected'),
    close,
  };
}

/**
 * A "broker" that answers every CONNECT with an accepting CONNACK, then drops the connection
 * `closeAfterMs` later without a close frame (as a TCP reset looks to the browser: code 1006).
 * It answers nothing else. `connects` lists every CONNECT with its client id and time (ms).
 */
export function startAcceptThenClose({ closeAfterMs = 50 } = {}) {
  return startAnsweringConnect((socket, { version }) => {
    socket.send(Buffer.from(version === 5 ? [0x20, 3, 0, 0, 0] : [0x20, 2, 0, 0]));
    setTimeout(() => socket.terminate(), closeAfterMs);
  });
}

/**
 * A "broker" that leaves unanswered the CONNECT of a client whose id passes `held(clientId)`
 * (its CONNACK never comes: it stays connecting) and refuses every other with CONNACK Not
 * authorized (3.1.1 return code 5, 5.0 0x87). `connects` lists the CONNECTs, as
 * [`startAcceptThenClose`]'s.
 */
export function startRefusingAllBut(held) {
  return startAnsweringConnect((socket, { version, clientId }) => {
    if (held(clientId)) return;
    socket.send(Buffer.from(version === 5 ? [0x20, 3, 0, 0x87, 0] : [0x20, 2, 0, 5]));
  });
}

/**
 * A server that accepts every connection and never answers: `kind` 'tcp' takes the TCP
 * connection and says nothing (no WebSocket handshake, as any program on a port that is no
 * web server), 'websocket' completes the handshake (subprotocol mqtt) and then answers no
 * CONNECT. `opened` counts the connections taken; `url` is the ws:// URL to give the page.
 */
export async function startSilent(kind) {
  const sockets = new Set();
  let opened = 0;
  if (kind === 'tcp') {
    const server = net.createServer((socket) => {
      opened += 1;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return {
      url: `ws://127.0.0.1:${server.address().port}`,
      opened: () => opened,
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }
  const { wsUrl, close } = await listen((socket) => {
    opened += 1;
    socket.on('error', () => {});
  });
  return { url: wsUrl, opened: () => opened, close };
}

/**
 * A WebSocket proxy in front of a real broker (`upstream`, a ws:// URL) that hands every packet
 * the broker sends to `fromBroker(packet, conn)`, and every packet the client sends (after
 * CONNECT) to `toBroker(packet, conn)`: return the packet (changed or not) to pass it on, or
 * null to drop it. `conn` knows the client's id and protocol version and the filters of each
 * SUBSCRIBE it sent, by packet id.
 */
export async function startTamperingProxy({ upstream, fromBroker = (packet) => packet, toBroker: tamperUp = (packet) => packet }) {
  const connects = [];
  const changes = waiter(connects);
  const { wsUrl, close } = await listen((client) => {
    const conn = {
      clientId: null,
      version: 4,
      subscribes: new Map(),
      // For a hook that holds a packet back (returns null) and sends it later.
      toClient: (packet) => client.readyState === WebSocket.OPEN && (client.send(packet), true),
    };
    const broker = new WebSocket(upstream, 'mqtt');
    const early = [];
    const toBroker = (data) => (broker.readyState === WebSocket.OPEN ? broker.send(data) : early.push(data));
    broker.on('open', () => {
      for (const data of early.splice(0)) broker.send(data);
    });
    const fromClient = packetFramer((packet) => {
      const type = packet[0] >> 4;
      if (type === 1) {
        Object.assign(conn, readConnect(packet));
        connects.push({ clientId: conn.clientId, at: Date.now() });
        changes.changed();
      }
      if (type === 8) {
        const { packetId, filters } = readSubscribe(packet, conn.version);
        conn.subscribes.set(packetId, filters);
      }
      const passed = type === 1 ? Buffer.from(packet) : tamperUp(Buffer.from(packet), conn);
      if (passed) toBroker(passed);
    });
    const toClient = packetFramer((packet) => {
      const passed = fromBroker(Buffer.from(packet), conn);
      if (passed && client.readyState === WebSocket.OPEN) client.send(passed);
    });
    client.on('message', (data) => fromClient(Buffer.from(data)));
    broker.on('message', (data) => toClient(Buffer.from(data)));
    client.on('close', () => broker.terminate());
    broker.on('close', () => client.terminate());
    client.on('error', () => {});
    broker.on('error', () => client.terminate());
  });
  return {
    wsUrl,
    connects,
    waitForConnects: (predicate, timeoutMs) =>
      changes.wait(predicate, timeoutMs, 'the proxy did not see the CONNECTs expected'),
    close,
  };
}


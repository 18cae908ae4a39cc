// Exit 0 if an MQTT broker answers over WebSocket at the URL given (a CONNACK, accepted or
// refused, within 3 s), 1 otherwise, printing what happened. scripts/play uses it before it
// trusts whatever listens on port 9001 to be a broker.
//
//   node scripts/lib/mqtt-answers.mjs ws://127.0.0.1:9001

import mqtt from 'mqtt';

const url = process.argv[2];
if (!url) {
  console.error('usage: node scripts/lib/mqtt-answers.mjs ws://host:port');
  process.exit(2);
}
const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, clientId: `eda-play-probe-${process.pid}` });
const done = (code, why) => {
  if (why) console.log(why);
  client.end(true);
  process.exit(code);
};
client.on('connect', () => done(0));
client.on('error', (e) => (e.code !== undefined && typeof e.code === 'number' ? done(0) : done(1, e.message)));
client.on('close', () => done(1, 'the connection closed before a CONNACK'));
setTimeout(() => done(1, 'no CONNACK within 3 s'), 3500).unref();

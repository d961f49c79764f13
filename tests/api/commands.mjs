// POST /stations/{id}/commands against a real station connection: the station's answer comes back, a
// CALLERROR or a lost connection is 502, silence is 504 after call_timeout_s (2 s here), and Idempotency-Key
// makes a retry return the first result without a second CALL reaching the station, also after depotd restarted
// (the keys are reloaded from the event log; a command sent but unanswered when depotd died is answered 502).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiDepotd, commandStation, depotConfig, eventually, makeTokens, problem, sql } from './lib.mjs';

const tokens = makeTokens();
let d;
let st;
// What the station does with each command: set per test.
let behaviour = () => ({ status: 'Accepted' });

before(async () => {
  d = new ApiDepotd({ config: depotConfig(tokens) });
  await d.start();
  st = await commandStation(d, 'CS1', (action, payload) => behaviour(action, payload));
});

after(async () => {
  if (st) await st.close();
  if (d) await d.finish();
});

const post = (body, { key, token = tokens.admin, station = 'CS1' } = {}) =>
  d.req('POST', `/api/v1/stations/${station}/commands`, { token, body, headers: key ? { 'Idempotency-Key': key } : {} });
// depotd's own CALLs are not the API's: the station-wide TriggerMessage StatusNotification it sends when a
// station comes back without a boot (issue 13) is left out.
const callsOf = (action) => st.calls.filter((c) => c.action === action &&
  !(action === 'TriggerMessage' && c.payload.requestedMessage === 'StatusNotification' && !c.payload.evse));

test('each command reaches the station and its answer comes back', async () => {
  behaviour = (action) => ({
    RequestStartTransaction: { status: 'Accepted', transactionId: 'tx-remote-1' },
    RequestStopTransaction: { status: 'Accepted' },
    Reset: { status: 'Scheduled' },
    ChangeAvailability: { status: 'Accepted' },
    TriggerMessage: { status: 'Accepted' },
    UnlockConnector: { status: 'Unlocked' },
  })[action];
  const cases = [
    ['RequestStartTransaction', { evseId: 1, idToken: { idToken: 'VAN-1', type: 'ISO14443' } }],
    ['RequestStopTransaction', { transactionId: 'tx-remote-1' }],
    ['Reset', { type: 'OnIdle' }],
    ['ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }],
    ['TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } }],
    ['UnlockConnector', { evseId: 1, connectorId: 1 }],
  ];
  for (const [action, request] of cases) {
    const r = await post({ action, request });
    assert.equal(r.status, 200, `${action}: ${r.text}`);
    assert.equal(r.json.station, 'CS1');
    assert.equal(r.json.action, action);
    assert.deepEqual(r.json.response, behaviour(action));
    const call = callsOf(action).at(-1);
    assert.equal(call.id, r.json.message_id);
    for (const [k, v] of Object.entries(request)) assert.deepEqual(call.payload[k], v);
  }
  // depotd chose a remoteStartId, as OCPP requires one.
  assert.equal(typeof callsOf('RequestStartTransaction')[0].payload.remoteStartId, 'number');
  // The audit trail: the command event sits right before the frame it caused, and its outcome is logged.
  const rows = sql(d.db, "SELECT seq, type, action, data FROM events WHERE type IN ('api', 'ocpp_out') AND " +
    "(action = 'UnlockConnector' OR type = 'api') ORDER BY seq DESC LIMIT 3").reverse();
  assert.deepEqual(rows.map((x) => x.type), ['api', 'ocpp_out', 'api']);
  assert.equal(rows[1].seq, rows[0].seq + 1);
  const sent = JSON.parse(rows[0].data), done = JSON.parse(rows[2].data);
  assert.deepEqual([sent.by, sent.status, sent.action], ['ops-admin', 202, 'UnlockConnector']);
  assert.deepEqual([done.by, done.status, done.message_id], ['ops-admin', 200, callsOf('UnlockConnector').at(-1).id]);
});

test('a CALLERROR is 502 with the OCPP error code', async () => {
  behaviour = () => ({ error: 'NotSupported', description: 'no such trigger here' });
  const r = await post({ action: 'TriggerMessage', request: { requestedMessage: 'Heartbeat' } });
  const p = problem(assert, r, 502);
  assert.equal(p.ocpp_error_code, 'NotSupported');
  assert.equal(p.ocpp_error_description, 'no such trigger here');
  assert.match(p.detail, /CS1 answered TriggerMessage with CALLERROR NotSupported/);
});

test('no answer within call_timeout_s is 504', async () => {
  behaviour = () => null;
  const t0 = Date.now();
  const r = await post({ action: 'UnlockConnector', request: { evseId: 1, connectorId: 1 } });
  const p = problem(assert, r, 504);
  assert.match(p.detail, /did not answer UnlockConnector within call_timeout_s \(2 s\)/);
  const took = Date.now() - t0;
  assert.ok(took >= 1900 && took < 10000, `answered after ${took} ms`);
  const m = (await d.req('GET', '/metrics', { token: tokens.viewer })).text;
  assert.match(m, /^depotd_api_command_timeouts_total 1$/m);
});

test('Idempotency-Key: a retry returns the first result and never sends a second command', async () => {
  behaviour = () => ({ status: 'Accepted' });
  const before_ = callsOf('Reset').length;
  const body = { action: 'Reset', request: { type: 'Immediate' } };
  const first = await post(body, { key: 'reset-cs1-0001' });
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  const again = await post(body, { key: 'reset-cs1-0001' });
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.json, first.json);
  // Whitespace does not make it another request.
  const spaced = await d.req('POST', '/api/v1/stations/CS1/commands', { token: tokens.admin,
    body: ' {"action": "Reset",  "request": {"type": "Immediate"}} ', headers: { 'Idempotency-Key': 'reset-cs1-0001' } });
  assert.equal(spaced.headers.get('idempotent-replayed'), 'true');
  assert.equal(callsOf('Reset').length, before_ + 1, 'the station got one Reset');
  // The same key with another request is refused; another token has its own keys.
  problem(assert, await post({ action: 'Reset', request: { type: 'OnIdle' } }, { key: 'reset-cs1-0001' }), 422,
    'Idempotency-Key');
  // A failed first attempt is replayed too: the station is not asked twice.
  behaviour = () => ({ error: 'InternalError', description: 'busy' });
  const failed = await post({ action: 'Reset', request: { type: 'OnIdle' } }, { key: 'reset-cs1-0002' });
  assert.equal(failed.status, 502);
  behaviour = () => ({ status: 'Accepted' });
  const retry = await post({ action: 'Reset', request: { type: 'OnIdle' } }, { key: 'reset-cs1-0002' });
  assert.equal(retry.status, 502);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.equal(callsOf('Reset').length, before_ + 2);
  problem(assert, await post(body, { key: 'x'.repeat(129) }), 400, 'Idempotency-Key');
});

test('Idempotency-Key: a retry while the first still waits for the station is 409', async () => {
  behaviour = () => null;
  const n0 = callsOf('ChangeAvailability').length;
  const body = { action: 'ChangeAvailability', request: { operationalStatus: 'Operative' } };
  const first = post(body, { key: 'avail-1' });
  // Wait until the CALL reached the station, then retry.
  for (let i = 0; i < 200 && callsOf('ChangeAvailability').length === n0; i++) await new Promise((r) => setTimeout(r, 10));
  const call = callsOf('ChangeAvailability').at(-1);
  const busy = await post(body, { key: 'avail-1' });
  const p = problem(assert, busy, 409, 'Idempotency-Key');
  assert.match(p.detail, /still waiting/);
  assert.equal(busy.headers.get('retry-after'), '1');
  st.send([3, call.id, { status: 'Accepted' }]);
  const r = await first;
  assert.equal(r.status, 200, r.text);
  const replay = await post(body, { key: 'avail-1' });
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(callsOf('ChangeAvailability').length, n0 + 1);
});

test('404 unknown station, 409 station not connected, 422 bad action or request, 403 for dispatchers', async () => {
  behaviour = () => ({ status: 'Accepted' });
  problem(assert, await post({ action: 'Reset', request: { type: 'Immediate' } }, { station: 'NOPE' }), 404, 'station_id');
  const p = problem(assert, await post({ action: 'Reset', request: { type: 'Immediate' } }, { station: 'CS2' }), 409,
    'station_id');
  assert.match(p.detail, /CS2 is not connected/);
  problem(assert, await post({ action: 'UpdateFirmware', request: {} }), 422, 'action');
  problem(assert, await post({ request: {} }), 422, 'action');
  problem(assert, await post({ action: 'Reset' }), 422, 'request');
  problem(assert, await post({ action: 'Reset', request: 'Immediate' }), 422, 'request');
  let q = problem(assert, await post({ action: 'Reset', request: { type: 'Now' } }), 422, 'request.type');
  assert.match(q.detail, /Immediate, OnIdle/);
  q = problem(assert, await post({ action: 'UnlockConnector', request: { evseId: 1 } }), 422);
  assert.match(q.field, /^request/);
  problem(assert, await post({ action: 'Reset', request: { type: 'OnIdle' }, force: true }), 422, 'force');
  problem(assert, await post({ action: 'Reset', request: { type: 'OnIdle' } }, { token: tokens.dispatcher }), 403);
});

test('the connection closing before the answer is 502', async () => {
  behaviour = () => null;
  const n0 = callsOf('Reset').length;
  const pending = post({ action: 'Reset', request: { type: 'Immediate' } });
  for (let i = 0; i < 200 && callsOf('Reset').length === n0; i++) await new Promise((r) => setTimeout(r, 10));
  st.terminate();
  const p = problem(assert, await pending, 502);
  assert.match(p.detail, /connection of station CS1 closed before it answered Reset/);
  st = null;
});

test('Idempotency-Key survives a restart: the first answer again, the station sees one command', async () => {
  behaviour = () => ({ status: 'Accepted' });
  st = await commandStation(d, 'CS1', (action, payload) => behaviour(action, payload)); // the last test dropped it
  const trigger = { action: 'TriggerMessage', request: { requestedMessage: 'Heartbeat' } };
  const first = await post(trigger, { key: 'trigger-restart-1' });
  assert.equal(first.status, 200, first.text);
  const resetFirst = await post({ action: 'Reset', request: { type: 'Immediate' } }, { key: 'reset-cs1-0001' });
  assert.equal(resetFirst.headers.get('idempotent-replayed'), 'true');
  // A command the station got but had not answered when depotd died.
  behaviour = () => null;
  const nAvail = callsOf('ChangeAvailability').length;
  const avail = { action: 'ChangeAvailability', request: { operationalStatus: 'Inoperative' } };
  const lost = post(avail, { key: 'avail-restart-1' }).catch((e) => e);
  for (let i = 0; i < 200 && callsOf('ChangeAvailability').length === nAvail; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(callsOf('ChangeAvailability').length, nAvail + 1);
  await eventually(() => sql(d.db, "SELECT count(*) AS n FROM events WHERE type = 'api' AND data LIKE '%avail-restart-1%'")[0].n === 1,
    'the sent command in the event log');
  const sent = { trigger: callsOf('TriggerMessage').length, avail: callsOf('ChangeAvailability').length };
  await d.kill9();
  await lost;
  await st.close();
  // Records the reload must skip without harm: not JSON, wrong types, a fingerprint that is not hex.
  const now = Date.now();
  for (const data of ['{"idempotency_key": broken', '{"idempotency_key": 5, "by": [], "status": "202"}',
    '{"idempotency_key":"k1","by":"ops-admin","method":"POST","status":202,"fingerprint":"zz"}',
    `{"idempotency_key":"${'k'.repeat(300)}","by":"ops-admin","method":"POST","status":200,"answer":{}}`]) {
    sql(d.db, `INSERT INTO events(time_ms, type, data) VALUES (${now}, 'api', '${data.replace(/'/g, "''")}')`);
  }
  await d.start();
  st = await commandStation(d, 'CS1', (action, payload) => behaviour(action, payload));
  behaviour = () => ({ status: 'Accepted' });
  assert.match(d.stderrText, /Idempotency-Keys of commands restored from the event log/);

  const again = await post(trigger, { key: 'trigger-restart-1' });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.json, first.json);
  const reset = await post({ action: 'Reset', request: { type: 'Immediate' } }, { key: 'reset-cs1-0001' });
  assert.equal(reset.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(reset.json, resetFirst.json);
  const failed = await post({ action: 'Reset', request: { type: 'OnIdle' } }, { key: 'reset-cs1-0002' });
  assert.equal(failed.status, 502, 'a failed first answer is replayed too');
  assert.equal(failed.headers.get('idempotent-replayed'), 'true');
  const unknown = problem(assert, await post(avail, { key: 'avail-restart-1' }), 502);
  assert.match(unknown.detail, /restarted before the station answered ChangeAvailability/);
  problem(assert, await post({ action: 'Reset', request: { type: 'OnIdle' } }, { key: 'trigger-restart-1' }), 422,
    'Idempotency-Key');
  // The restarted depotd's station connection got none of them: ONE command each in all.
  assert.equal(callsOf('TriggerMessage').length + callsOf('Reset').length + callsOf('ChangeAvailability').length, 0,
    JSON.stringify(st.calls.map((c) => c.action)));
  assert.ok(sent.trigger >= 1 && sent.avail >= 1);
  // A new key is sent.
  const fresh = await post(trigger, { key: 'trigger-restart-2' });
  assert.equal(fresh.status, 200);
  assert.equal(fresh.headers.get('idempotent-replayed'), null);
  assert.equal(callsOf('TriggerMessage').length, 1);
});

test('provisioning and profile reads: GetBaseReport\'s NotifyReport parts land in the station\'s device model', async () => {
  behaviour = (action) => ({
    GetBaseReport: { status: 'Accepted' },
    GetReport: { status: 'Accepted' },
    SetVariables: { setVariableResult: [{ attributeStatus: 'Accepted', component: { name: 'OCPPCommCtrlr' },
      variable: { name: 'HeartbeatInterval' } }] },
    ClearCache: { status: 'Accepted' },
    GetTransactionStatus: { messagesInQueue: false },
    GetChargingProfiles: { status: 'NoProfiles' },
    GetCompositeSchedule: { status: 'Rejected' },
    SetNetworkProfile: { status: 'Rejected' },
  })[action];
  const cases = [
    ['GetBaseReport', { requestId: 7, reportBase: 'FullInventory' }],
    ['GetReport', { requestId: 8, componentVariable: [{ component: { name: 'SmartChargingCtrlr' } }] }],
    ['SetVariables', { setVariableData: [{ attributeValue: '120', component: { name: 'OCPPCommCtrlr' },
      variable: { name: 'HeartbeatInterval' } }] }],
    ['ClearCache', {}],
    ['GetTransactionStatus', {}],
    ['GetChargingProfiles', { requestId: 9, chargingProfile: { chargingProfilePurpose: 'TxProfile' } }],
    ['GetCompositeSchedule', { duration: 3600, evseId: 1 }],
    ['SetNetworkProfile', { configurationSlot: 2, connectionData: { ocppVersion: 'OCPP20', ocppTransport: 'JSON',
      ocppCsmsUrl: 'wss://csms.example/ocpp', messageTimeout: 30, securityProfile: 2, ocppInterface: 'Wired0' } }],
  ];
  for (const [action, request] of cases) {
    const r = await post({ action, request });
    assert.equal(r.status, 200, `${action}: ${r.text}`);
    assert.deepEqual(r.json.response, behaviour(action), action);
    assert.deepEqual(callsOf(action).at(-1).payload, request, action);
  }
  // The station's report, in two parts: the device model as depotd keeps it.
  await st.ok('NotifyReport', { requestId: 7, generatedAt: new Date().toISOString(), seqNo: 0, tbc: true, reportData: [
    { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'PeriodsPerSchedule' },
      variableAttribute: [{ type: 'Actual', value: '24', mutability: 'ReadOnly' }] }] });
  await st.ok('NotifyReport', { requestId: 7, generatedAt: new Date().toISOString(), seqNo: 1, reportData: [
    { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' },
      variableAttribute: [{ type: 'MaxSet', value: '22000' }, { type: 'Actual', value: '0' }] }] });
  const got = await eventually(async () => {
    const s = (await d.req('GET', '/api/v1/stations/CS1', { token: tokens.viewer })).json;
    return s.capabilities?.some((c) => c.variable === 'Power' && c.attribute_type === 'MaxSet') && s.capabilities;
  }, 'the reported variables in the station\'s device model');
  // What GetChargingProfiles asked for comes back as ReportChargingProfiles: the station's profiles, readable.
  await st.ok('ReportChargingProfiles', { requestId: 9, chargingLimitSource: 'CSO', evseId: 1, chargingProfile: [
    { id: 1001, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', transactionId: 'tx-9',
      chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }] }] }] });
  const reported = await eventually(async () => {
    const s = (await d.req('GET', '/api/v1/stations/CS1', { token: tokens.viewer })).json;
    return s.reported_profiles?.length && s.reported_profiles;
  }, 'the reported profiles in the station document');
  assert.deepEqual(reported.map((x) => [x.evse_id, x.source, x.id, x.request_id, x.purpose, x.stack_level]),
    [[1, 'CSO', 1001, 9, 'TxProfile', 1]]);
  assert.equal(reported[0].profile.transactionId, 'tx-9');
  const pick = (v, t) => got.find((c) => c.variable === v && c.attribute_type === t);
  assert.deepEqual([pick('PeriodsPerSchedule', 'Actual').value, pick('PeriodsPerSchedule', 'Actual').status], ['24', 'Reported']);
  assert.deepEqual([pick('Power', 'MaxSet').value, pick('Power', 'MaxSet').evse_id], ['22000', 1]);
  assert.equal(pick('Power', 'Actual').value, '0');
});

test('a FullInventory larger than the station document: the device model page by page at /variables', async () => {
  // 1,200 variables in 6 parts of 200 (a real charger's inventory runs to a thousand and more), 2 EVSEs.
  const parts = 6, per = 200, reqId = 21;
  for (let p = 0; p < parts; p++) {
    const reportData = [];
    for (let i = 0; i < per; i++) {
      const n = p * per + i;
      reportData.push({ component: n % 3 ? { name: 'EVSE', evse: { id: 1 + (n % 2) } } : { name: 'InvCtrlr', instance: `m${n}` },
        variable: { name: `Var${n}` }, variableAttribute: [{ type: 'Actual', value: String(n) }] });
    }
    await st.ok('NotifyReport', { requestId: reqId, generatedAt: new Date().toISOString(), seqNo: p,
      tbc: p < parts - 1, reportData });
  }
  const vars = (q = '') => d.req('GET', `/api/v1/stations/CS1/variables${q}`, { token: tokens.viewer });
  await eventually(async () => (await vars('?variable=Var1199')).json?.items?.length === 1, 'the last part stored');
  const doc = (await d.req('GET', '/api/v1/stations/CS1', { token: tokens.viewer })).json;
  assert.equal(doc.capabilities.length, 500, 'the station document carries the first 500');
  // The walk: limit 500, and a variable reported again half-way (it moves to the end: seen again, not lost).
  const seen = new Map();
  let cursor = null, pages = 0;
  do {
    const r = await vars(`?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    for (const c of r.json.items) if (c.variable.startsWith('Var')) seen.set(`${c.component}/${c.component_instance}/${c.evse_id}/${c.variable}`, c.value);
    cursor = r.json.next_cursor;
    if (++pages === 1) await st.ok('NotifyReport', { requestId: reqId + 1, generatedAt: new Date().toISOString(), seqNo: 0,
      reportData: [{ component: { name: 'InvCtrlr', instance: 'm0' }, variable: { name: 'Var0' },
        variableAttribute: [{ type: 'Actual', value: 'changed' }] }] });
  } while (cursor && pages < 10);
  assert.equal(seen.size, parts * per, 'every reported variable, once per key');
  assert.equal(pages, 3, 'three pages of 500 hold the 1,200 and the few read before');
  // Filters: a component, an EVSE, a variable.
  const evse2 = [];
  for (cursor = null; ;) {
    const r = await vars(`?component=EVSE&evse_id=2&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    evse2.push(...r.json.items);
    if (!(cursor = r.json.next_cursor)) break;
  }
  const want = [...Array(parts * per).keys()].filter((n) => n % 3 && n % 2).length;
  assert.equal(evse2.filter((c) => c.variable.startsWith('Var')).length, want);
  assert.ok(evse2.every((c) => c.component === 'EVSE' && c.evse_id === 2));
  const v0 = (await vars('?variable=Var0')).json.items;
  assert.deepEqual(v0.map((c) => [c.component, c.component_instance, c.value, c.status]), [['InvCtrlr', 'm0', 'changed', 'Reported']]);
  // Bad arguments are 400s that name the argument; an unknown station is 404.
  assert.equal(problem(assert, await vars('?cursor=abc'), 400).field, 'cursor');
  assert.equal(problem(assert, await vars('?evse_id=-1'), 400).field, 'evse_id');
  assert.equal(problem(assert, await vars('?limit=0'), 400).field, 'limit');
  assert.equal(problem(assert, await d.req('GET', '/api/v1/stations/NOPE/variables', { token: tokens.viewer }), 404).field,
    'station_id');
});

test('what depotd will not send for an operator: profiles while it plans, a password outside its door', async () => {
  const n = st.calls.length;
  const set = problem(assert, await post({ action: 'SetChargingProfile', request: { evseId: 1, chargingProfile: {
    id: 5, stackLevel: 9, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 22000 }] }] } } }),
  409);
  assert.match(set.detail, /smart charging is on.*site\/limit/);
  problem(assert, await post({ action: 'ClearChargingProfile', request: { chargingProfileId: 1001 } }), 409);
  // With the station maxima fail-safe (this depot's), ChargingStationMaxProfile is depotd's too.
  const max = problem(assert, await post({ action: 'SetChargingProfile', request: { evseId: 0, chargingProfile: {
    id: 7, stackLevel: 3, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 11000 }] }] } } }),
  409);
  assert.match(max.detail, /no operator profile may be set/);
  const pw = problem(assert, await post({ action: 'SetVariables', request: { setVariableData: [{ attributeValue: 'x'.repeat(20),
    component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } }] } }), 422, 'request');
  assert.match(pw.detail, /\/password/);
  assert.doesNotMatch(JSON.stringify(sql(d.db, "SELECT data FROM events WHERE type = 'api' ORDER BY seq DESC LIMIT 3")),
    /xxxxxxxxxxxxxxxxxxxx/, 'the refused password is not in the audit trail');
  assert.equal(st.calls.length, n, 'nothing reached the station');
});

test('an EMS\'s constraint from a profile report is planned with again after a restart, from when it was reported', async () => {
  behaviour = () => ({ status: 'Accepted' }); // whatever depotd asks of the station around the restart
  // The station's report (after GetChargingProfiles): an EMS holds EVSE 1 at 5 kW, with no start (from the report).
  await st.ok('ReportChargingProfiles', { requestId: 31, chargingLimitSource: 'EMS', evseId: 1, chargingProfile: [
    { id: 301, stackLevel: 0, chargingProfilePurpose: 'ChargingStationExternalConstraints', chargingProfileKind: 'Absolute',
      chargingSchedule: [{ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 5000 }] }] }] });
  await eventually(() => /external limit of EMS on EVSE 1: 5\.0 kW now/.test(d.stderrText), 'the report planned with');
  await eventually(() => sql(d.db, "SELECT count(*) AS n FROM reported_profiles WHERE request_id = 31")[0].n === 1,
    'the report in the store');
  await st.close();
  await d.kill9();
  await d.start();
  st = await commandStation(d, 'CS1', (action, payload) => behaviour(action, payload));
  assert.match(d.stderrText, /external limit of EMS on EVSE 1: 5\.0 kW now/, 'restored from the store at start');
});

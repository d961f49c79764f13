// An independent OCPP 2.0.1 charging station for `depotsim probe` (depotsim as the CSMS test system): built on
// npm ocpp-rpc in strict mode, so every frame both ways is checked against ocpp-rpc's own copy of the schemas,
// not depotd's. One EVSE (id 1, connector 1), 3 x 230 V AC, 16 A per phase (11040 W); a car that takes 11 kW
// is plugged in from the start. Smart charging K01/K08/K09/K10 with RateUnit A and W.
// --ignore-limits: accepts profiles but always draws 11 kW. --wrong-composite: composite limits 50 % too high.
// Usage: node probe_station.js --url ws://HOST:PORT/ocpp/ --id STATION [--password PW] [--ignore-limits]
//        [--wrong-composite] [--seconds N]   (exits 0 after N s, default 180, or on SIGTERM/SIGINT)
'use strict';
const { RPCClient } = require('ocpp-rpc');

const args = { seconds: 180 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--ignore-limits') args.ignoreLimits = true;
  else if (a === '--wrong-composite') args.wrongComposite = true;
  else if (['--url', '--id', '--password', '--seconds'].includes(a) && i + 1 < process.argv.length)
    args[a.slice(2)] = process.argv[++i];
  else { console.error(`probe_station: unknown or incomplete argument ${a}`); process.exit(2); }
}
if (!args.url || !args.id) { console.error('probe_station: --url and --id are required'); process.exit(2); }

const T0 = Date.now();
const log = (...m) => process.stderr.write(`[probe_station ${((Date.now() - T0) / 1000).toFixed(1)}s] ${m.join(' ')}\n`);
const iso = (ms) => new Date(ms).toISOString();
const after = (fn) => setTimeout(() => fn().catch((e) => log('error:', e.message)), 50); // once our answer is out

const VOLTS = 230, PHASES = 3, HW_W = 16 * VOLTS * PHASES, CAR_W = 11000;
const MAX_PERIODS = 24, MAX_STACK = 8, MAX_ENTRIES = 16;
const cfg = { txInterval: 10, heartbeat: 60 };

// ---- device model (GetVariables, SetVariables, NotifyReport) ----
const setInt = (key) => (v) => (/^\d+$/.test(v) && +v >= 1 ? ((cfg[key] = +v), true) : false);
const VARS = [
  { c: 'SmartChargingCtrlr', v: 'Enabled', get: () => 'true', dt: 'boolean' },
  { c: 'SmartChargingCtrlr', v: 'RateUnit', get: () => 'A,W', dt: 'MemberList', list: 'A,W' },
  { c: 'SmartChargingCtrlr', v: 'PeriodsPerSchedule', get: () => String(MAX_PERIODS), dt: 'integer' },
  { c: 'SmartChargingCtrlr', v: 'ProfileStackLevel', get: () => String(MAX_STACK), dt: 'integer' },
  { c: 'SmartChargingCtrlr', v: 'Entries', inst: 'ChargingProfiles', get: () => String(MAX_ENTRIES), dt: 'integer' },
  { c: 'EVSE', evse: 1, v: 'Power', get: () => String(HW_W), dt: 'decimal', unit: 'W', anyType: true },
  { c: 'SampledDataCtrlr', v: 'TxUpdatedInterval', get: () => String(cfg.txInterval), dt: 'integer', unit: 's',
    set: (v) => setInt('txInterval')(v) && (tx && schedulePeriodic(), true) },
  { c: 'OCPPCommCtrlr', v: 'HeartbeatInterval', get: () => String(cfg.heartbeat), dt: 'integer', unit: 's',
    set: (v) => setInt('heartbeat')(v) && (startHeartbeat(), true) },
];
// Instances are not compared: a CSMS asking for Entries without 'ChargingProfiles' still gets an answer.
function lookup(component, variable) {
  const comp = VARS.filter((x) => x.c === component.name && (!x.evse || (component.evse && component.evse.id === x.evse)));
  if (!comp.length) return { status: 'UnknownComponent' };
  const hit = comp.find((x) => x.v === variable.name);
  return hit ? { hit } : { status: 'UnknownVariable' };
}

// ---- state ----
let client = null, connected = false, online = false, stopping = false;
let needBoot = true, bootReason = 'PowerUp';
let reconnectTimer = null, heartbeatTimer = null;
let tx = null;                 // {id, start, seqNo, remoteStartId, idToken, timer}
let available = true, inoperativeAfterTx = false;
let meterWh = 0, meterAt = Date.now();
let profiles = [];             // {evseId, p}: p as received (it is schema-valid, ReportChargingProfiles sends it back)
const queue = [];              // TransactionEvents in order, sent by flush(); kept while offline

// ---- charging profiles ----
const DAY = 86400e3;
function scheduleStart(p, t, relBase) {
  const s = p.chargingSchedule[0];
  if (p.chargingProfileKind === 'Relative') return relBase;
  const base = Date.parse(s.startSchedule);
  if (p.chargingProfileKind === 'Absolute') return base;
  const per = p.recurrencyKind === 'Weekly' ? 7 * DAY : DAY;
  return base + Math.floor((t - base) / per) * per;
}
// The profile's limit at t in W, or null when it is not in force (outside validity or schedule).
function profileW(p, t, relBase) {
  if ((p.validFrom && t < Date.parse(p.validFrom)) || (p.validTo && t >= Date.parse(p.validTo))) return null;
  const s = p.chargingSchedule[0];
  const off = (t - scheduleStart(p, t, relBase)) / 1000;
  if (off < 0 || (s.duration !== undefined && off >= s.duration)) return null;
  let per = null;
  for (const q of s.chargingSchedulePeriod) if (q.startPeriod <= off) per = q;
  if (!per) return null;
  return s.chargingRateUnit === 'W' ? per.limit : per.limit * VOLTS * (per.numberPhases || PHASES);
}
// The first in force of a list ordered by precedence.
function firstW(list, t, relBase) {
  for (const e of list) { const w = profileW(e.p, t, relBase); if (w !== null) return w; }
  return null;
}
const byStack = (a, b) => b.p.stackLevel - a.p.stackLevel || b.evseId - a.evseId; // evse 1 beats 0 at equal stack
function limitW(evseId, t, relBase) {
  const of = (purpose) => profiles.filter((e) => e.p.chargingProfilePurpose === purpose).sort(byStack);
  let w = HW_W;
  const max = firstW(of('ChargingStationMaxProfile'), t, relBase);
  if (max !== null) w = Math.min(w, max);
  if (evseId === 1) {
    const txw = tx ? firstW(of('TxProfile').filter((e) => e.p.transactionId === tx.id), t, relBase) : null;
    const own = txw !== null ? txw : firstW(of('TxDefaultProfile'), t, relBase);
    if (own !== null) w = Math.min(w, own);
  }
  return Math.max(0, w);
}
// Every instant in (from, to) at which some profile may change its limit.
function boundaries(from, to, relBase) {
  const out = [];
  for (const { p } of profiles) {
    const s = p.chargingSchedule[0];
    if (p.validFrom) out.push(Date.parse(p.validFrom));
    if (p.validTo) out.push(Date.parse(p.validTo));
    const starts = [];
    if (p.chargingProfileKind === 'Recurring') {
      const per = p.recurrencyKind === 'Weekly' ? 7 * DAY : DAY;
      for (let st = scheduleStart(p, from, relBase); st < to; st += per) starts.push(st);
    } else starts.push(scheduleStart(p, from, relBase));
    for (const st of starts) {
      for (const q of s.chargingSchedulePeriod) out.push(st + q.startPeriod * 1000);
      if (s.duration !== undefined) out.push(st + s.duration * 1000);
    }
  }
  return out.filter((b) => b > from && b < to);
}
const carW = (t) => (args.ignoreLimits ? CAR_W : Math.min(CAR_W, limitW(1, t, tx ? tx.start : t)));

// Checks as K01 asks (same FR numbers as sim/profiles.c); returns a reason or null.
function refuse(evseId, p) {
  const s = p.chargingSchedule[0], per = s.chargingSchedulePeriod;
  if (evseId !== 0 && evseId !== 1) return ['UnknownEVSE', `evseId ${evseId} does not exist`];
  if (p.stackLevel > MAX_STACK) return ['InvalidStackLevel', `stackLevel above ${MAX_STACK}`];
  if (per[0].startPeriod !== 0) return ['InvalidSchedule', 'K01.FR.31 first startPeriod must be 0'];
  if (per.some((q, i) => i && q.startPeriod <= per[i - 1].startPeriod)) return ['InvalidSchedule', 'K01.FR.35'];
  if (per.length > MAX_PERIODS) return ['InvalidSchedule', `more than ${MAX_PERIODS} periods`];
  const purpose = p.chargingProfilePurpose, kind = p.chargingProfileKind;
  if (purpose === 'ChargingStationExternalConstraints') return ['InvalidProfile', 'external constraints are ours'];
  if (purpose === 'ChargingStationMaxProfile' && evseId !== 0) return ['InvalidProfile', 'station max needs evseId 0'];
  if (purpose === 'ChargingStationMaxProfile' && kind === 'Relative') return ['InvalidProfile', 'K01.FR.38'];
  if (purpose === 'TxProfile') {
    if (evseId === 0) return ['InvalidProfile', 'K01.FR.16 TxProfile needs evseId 1'];
    if (!p.transactionId) return ['TxNotFound', 'K01.FR.03 TxProfile without transactionId'];
    if (!tx || tx.id !== p.transactionId) return ['TxNotFound', `K01.FR.09 no transaction ${p.transactionId}`];
  }
  if (kind !== 'Relative' && !s.startSchedule) return ['InvalidSchedule', `K01.FR.40 ${kind} without startSchedule`];
  if (kind === 'Relative' && s.startSchedule) return ['InvalidSchedule', 'K01.FR.41 Relative with startSchedule'];
  if (kind === 'Recurring' && !p.recurrencyKind) return ['InvalidProfile', 'Recurring without recurrencyKind'];
  const clash = profiles.find((e) => e.p.id !== p.id && e.evseId === evseId && e.p.stackLevel === p.stackLevel &&
    e.p.chargingProfilePurpose === purpose && (purpose !== 'TxProfile' || e.p.transactionId === p.transactionId));
  if (clash) return ['DuplicateProfile', `K01.FR.06 profile ${clash.p.id} has this stackLevel and purpose`];
  if (profiles.length >= MAX_ENTRIES && !profiles.some((e) => e.p.id === p.id)) return ['NoSpace', 'Entries full'];
  return null;
}
function setProfile(evseId, p) {
  const why = refuse(evseId, p);
  const what = `SetChargingProfile ${p.id} ${p.chargingProfilePurpose} ${p.chargingProfileKind} stack ${p.stackLevel} ` +
    `evse ${evseId}`;
  if (why) {
    log(`${what}: Rejected, ${why[1]}`);
    return { status: 'Rejected', statusInfo: { reasonCode: why[0], additionalInfo: why[1] } };
  }
  profiles = profiles.filter((e) => e.p.id !== p.id).concat([{ evseId, p }]);   // K01.FR.05: same id replaces
  log(`${what}: Accepted`);
  return { status: 'Accepted' };
}

// ---- meter and transactions ----
// Integrate in steps of at most 1 s so a limit change between two reports is accounted for where it happens.
function integrate(now) {
  while (tx && meterAt < now) {
    const step = Math.min(1000, now - meterAt);
    meterWh += carW(meterAt) * step / 3.6e6;
    meterAt += step;
  }
  meterAt = now;
}
function meterValue(now, context, withPower) {
  integrate(now);
  const sv = [{ value: Math.round(meterWh * 10) / 10, measurand: 'Energy.Active.Import.Register', context,
    unitOfMeasure: { unit: 'Wh' } }];
  if (withPower)
    sv.unshift({ value: tx ? carW(now) : 0, measurand: 'Power.Active.Import', context, unitOfMeasure: { unit: 'W' } });
  return [{ timestamp: iso(now), sampledValue: sv }];
}
// seqNo and timestamp are fixed when the event happens, not when it is sent: offline events keep theirs.
function txEvent(eventType, triggerReason, info, extra) {
  const now = Date.now();
  const ev = Object.assign({ eventType, timestamp: iso(now), triggerReason, seqNo: tx.seqNo++,
    transactionInfo: Object.assign({ transactionId: tx.id }, info) }, extra);
  if (!online) ev.offline = true;
  queue.push(ev);
  log(`TransactionEvent ${eventType} seqNo ${ev.seqNo}${ev.offline ? ' (offline, queued)' : ''}`);
  setTimeout(flush, 0);     // not now: ocpp-rpc would send it ahead of the answer to the CALL that caused it
}
// One drain at a time; callers await it to keep their own message behind the events.
let draining = null;
function flush() {
  if (!draining) draining = drain().finally(() => { draining = null; });
  return draining;
}
async function drain() {
  while (queue.length && online) {
    try { await client.call('TransactionEvent', queue[0]); queue.shift(); } catch (e) {
      if (!online || e.name === 'AbortError') break;           // connection lost: keep it for the replay
      log(`TransactionEvent seqNo ${queue[0].seqNo} refused (${e.message}), dropped`);
      queue.shift();
    }
  }
}
function schedulePeriodic() {
  clearTimeout(tx.timer);
  tx.timer = setTimeout(() => {
    txEvent('Updated', 'MeterValuePeriodic', {}, { meterValue: meterValue(Date.now(), 'Sample.Periodic', true) });
    schedulePeriodic();
  }, cfg.txInterval * 1000);
}
function startTx(idToken, remoteStartId) {
  tx = { id: `${args.id}-${Date.now().toString(36)}`.slice(-36), start: Date.now(), seqNo: 0, remoteStartId, idToken };
  meterAt = tx.start;
  txEvent('Started', 'RemoteStart', { remoteStartId, chargingState: 'Charging' },
    { idToken, evse: { id: 1, connectorId: 1 }, meterValue: meterValue(tx.start, 'Transaction.Begin', false) });
  schedulePeriodic();
}
function endTx(triggerReason, stoppedReason) {
  txEvent('Ended', triggerReason, { stoppedReason, chargingState: 'EVConnected' },
    { meterValue: meterValue(Date.now(), 'Transaction.End', false) });
  clearTimeout(tx.timer);
  profiles = profiles.filter((e) => !(e.p.chargingProfilePurpose === 'TxProfile' && e.p.transactionId === tx.id));
  tx = null;
  if (inoperativeAfterTx) { available = false; inoperativeAfterTx = false; }
}

// ---- outgoing messages other than TransactionEvent: only while online, else there is nobody to tell ----
async function send(action, params) {
  if (!online) return null;
  try { return await client.call(action, params); } catch (e) { log(`${action} failed: ${e.message}`); return null; }
}
const connectorStatus = () => (!available ? 'Unavailable' : tx ? 'Occupied' : 'Available');
async function sendStatus() {
  const status = connectorStatus();
  log(`StatusNotification ${status}`);
  await send('StatusNotification', { timestamp: iso(Date.now()), connectorStatus: status, evseId: 1, connectorId: 1 });
}
function startHeartbeat() {
  clearInterval(heartbeatTimer);
  if (online) heartbeatTimer = setInterval(() => send('Heartbeat', {}), cfg.heartbeat * 1000);
}
async function notifyReport(requestId) {
  const data = VARS.map((x) => ({
    component: x.evse ? { name: x.c, evse: { id: x.evse } } : { name: x.c },
    variable: x.inst ? { name: x.v, instance: x.inst } : { name: x.v },
    variableAttribute: [{ type: 'Actual', value: x.get(), mutability: x.set ? 'ReadWrite' : 'ReadOnly' }],
    variableCharacteristics: Object.assign({ dataType: x.dt, supportsMonitoring: false },
      x.unit ? { unit: x.unit } : {}, x.list ? { valuesList: x.list } : {}),
  }));
  const half = Math.ceil(data.length / 2), generatedAt = iso(Date.now());
  await send('NotifyReport', { requestId, generatedAt, seqNo: 0, tbc: true, reportData: data.slice(0, half) });
  await send('NotifyReport', { requestId, generatedAt, seqNo: 1, tbc: false, reportData: data.slice(half) });
  log(`NotifyReport ${requestId}: ${data.length} variables in 2 parts`);
}

// ---- what the CSMS may ask ----
function handlers(c) {
  c.handle('GetVariables', ({ params }) => ({ getVariableResult: params.getVariableData.map((d) => {
    const r = lookup(d.component, d.variable), base = { component: d.component, variable: d.variable };
    if (d.attributeType) base.attributeType = d.attributeType;
    if (!r.hit) return Object.assign(base, { attributeStatus: r.status });
    if (d.attributeType && d.attributeType !== 'Actual' && !r.hit.anyType)
      return Object.assign(base, { attributeStatus: 'NotSupportedAttributeType' });
    return Object.assign(base, { attributeStatus: 'Accepted', attributeValue: r.hit.get() });
  }) }));
  c.handle('SetVariables', ({ params }) => ({ setVariableResult: params.setVariableData.map((d) => {
    const r = lookup(d.component, d.variable), base = { component: d.component, variable: d.variable };
    if (d.attributeType) base.attributeType = d.attributeType;
    const status = !r.hit ? r.status : (d.attributeType && d.attributeType !== 'Actual') ? 'NotSupportedAttributeType'
      : r.hit.set && r.hit.set(d.attributeValue) ? 'Accepted' : 'Rejected';
    log(`SetVariables ${d.component.name}.${d.variable.name}=${d.attributeValue}: ${status}`);
    return Object.assign(base, { attributeStatus: status });
  }) }));
  c.handle('GetBaseReport', ({ params }) => { after(() => notifyReport(params.requestId)); return { status: 'Accepted' }; });
  c.handle('TriggerMessage', ({ params }) => {
    const what = params.requestedMessage, evse = params.evse;
    const act = { Heartbeat: () => send('Heartbeat', {}), StatusNotification: sendStatus,
      MeterValues: () => send('MeterValues', { evseId: 1, meterValue: meterValue(Date.now(), 'Trigger', true) }) }[what];
    log(`TriggerMessage ${what}`);
    if (!act) return { status: 'NotImplemented' };
    if (evse && evse.id !== 1 && what !== 'Heartbeat') return { status: 'Rejected' };
    after(act);
    return { status: 'Accepted' };
  });
  c.handle('RequestStartTransaction', ({ params }) => {
    log(`RequestStartTransaction remoteStartId ${params.remoteStartId}`);
    if ((params.evseId !== undefined && params.evseId !== 1) || tx || !available) return { status: 'Rejected' };
    startTx(params.idToken, params.remoteStartId);    // the Started event waits in the queue behind our answer
    if (params.chargingProfile) setProfile(1, Object.assign({}, params.chargingProfile, { transactionId: tx.id }));
    after(async () => { await flush(); await sendStatus(); });
    return { status: 'Accepted', transactionId: tx.id };
  });
  c.handle('RequestStopTransaction', ({ params }) => {
    log(`RequestStopTransaction ${params.transactionId}`);
    if (!tx || tx.id !== params.transactionId) return { status: 'Rejected' };
    endTx('RemoteStop', 'Remote');
    after(async () => { await flush(); await sendStatus(); });
    return { status: 'Accepted' };
  });
  c.handle('SetChargingProfile', ({ params }) => setProfile(params.evseId, params.chargingProfile));
  c.handle('ClearChargingProfile', ({ params }) => {
    const id = params.chargingProfileId, cr = params.chargingProfileCriteria || {};
    const hit = (e) => (id !== undefined ? e.p.id === id : (cr.evseId === undefined || e.evseId === cr.evseId) &&
      (!cr.chargingProfilePurpose || e.p.chargingProfilePurpose === cr.chargingProfilePurpose) &&
      (cr.stackLevel === undefined || e.p.stackLevel === cr.stackLevel));
    const before = profiles.length;
    profiles = profiles.filter((e) => !hit(e));
    log(`ClearChargingProfile: ${before - profiles.length} removed`);
    return { status: before > profiles.length ? 'Accepted' : 'Unknown' };
  });
  c.handle('GetChargingProfiles', ({ params }) => {
    const cr = params.chargingProfile;
    const found = profiles.filter((e) => (params.evseId === undefined || e.evseId === params.evseId) &&
      (!cr.chargingProfilePurpose || e.p.chargingProfilePurpose === cr.chargingProfilePurpose) &&
      (cr.stackLevel === undefined || e.p.stackLevel === cr.stackLevel) &&
      (!cr.chargingProfileId || cr.chargingProfileId.includes(e.p.id)) &&
      (!cr.chargingLimitSource || cr.chargingLimitSource.includes('CSO')));
    log(`GetChargingProfiles ${params.requestId}: ${found.length} found`);
    if (!found.length) return { status: 'NoProfiles' };
    const evses = [...new Set(found.map((e) => e.evseId))];
    after(async () => { for (const [i, evseId] of evses.entries()) await send('ReportChargingProfiles', {
      requestId: params.requestId, chargingLimitSource: 'CSO', evseId, tbc: i < evses.length - 1,
      chargingProfile: found.filter((e) => e.evseId === evseId).map((e) => e.p) }); });
    return { status: 'Accepted' };
  });
  c.handle('GetCompositeSchedule', ({ params }) => {
    const evseId = params.evseId, unit = params.chargingRateUnit || 'A';
    if (evseId !== 0 && evseId !== 1) return { status: 'Rejected' };
    const start = Math.floor(Date.now() / 1000) * 1000, end = start + params.duration * 1000;
    const relBase = tx ? tx.start : start;       // a Relative TxDefaultProfile would start with a transaction now
    const offs = [...new Set([0, ...boundaries(start, end, relBase).map((b) => Math.ceil((b - start) / 1000))])]
      .filter((s) => s < params.duration).sort((a, b) => a - b);
    const periods = [];
    for (const s of offs) {
      let v = limitW(evseId, start + s * 1000, relBase) * (args.wrongComposite ? 1.5 : 1);
      v = Math.round((unit === 'A' ? v / (VOLTS * PHASES) : v) * 10) / 10;
      if (periods.length && periods[periods.length - 1].limit === v) continue;
      periods.push(Object.assign({ startPeriod: s, limit: v }, unit === 'A' ? { numberPhases: PHASES } : {}));
    }
    log(`GetCompositeSchedule evse ${evseId} ${params.duration} s ${unit}:`,
      periods.map((p) => `${p.startPeriod}:${p.limit}`).join(' '));
    return { status: 'Accepted', schedule: { evseId, duration: params.duration, scheduleStart: iso(start),
      chargingRateUnit: unit, chargingSchedulePeriod: periods } };
  });
  c.handle('ChangeAvailability', ({ params }) => {
    const evse = params.evse, op = params.operationalStatus;
    log(`ChangeAvailability ${op}${evse ? ` evse ${evse.id}` : ''}`);
    if (evse && (evse.id > 1 || (evse.connectorId !== undefined && evse.connectorId !== 1))) return { status: 'Rejected' };
    if (op === 'Inoperative' && tx) { inoperativeAfterTx = true; return { status: 'Scheduled' }; }
    available = op === 'Operative';
    inoperativeAfterTx = false;
    after(sendStatus);
    return { status: 'Accepted' };
  });
  c.handle('Reset', ({ params }) => {
    log(`Reset ${params.type}`);
    if (params.evseId !== undefined) return { status: 'Rejected' };   // no EVSE-only reset
    if (tx) endTx('ResetCommand', 'ImmediateReset');   // OnIdle too: keeps it simple
    after(async () => {
      await flush();
      needBoot = true; bootReason = 'RemoteReset';
      await client.close({ code: 1000, reason: 'Reset' });       // the close handler reconnects 1 s later
    });
    return { status: 'Accepted' };
  });
}

// ---- connection ----
async function boot() {
  while (connected && needBoot) {
    let r = null;
    try {
      r = await client.call('BootNotification', { reason: bootReason,
        chargingStation: { model: 'probe-station', vendorName: 'depotd-tests' } });
    } catch (e) { log(`BootNotification failed: ${e.message}`); return false; }
    log(`BootNotification ${bootReason}: ${r.status}, interval ${r.interval}`);
    if (r.interval > 0) cfg.heartbeat = r.interval;
    if (r.status === 'Accepted') { needBoot = false; bootReason = 'PowerUp'; return true; }
    await new Promise((res) => setTimeout(res, Math.max(1, r.interval || 10) * 1000));   // Pending/Rejected: retry
  }
  return !needBoot;
}
async function onOpen() {
  connected = true;
  log(`connected to ${args.url}${args.id}`);
  if (needBoot && !(await boot())) return;
  if (!connected) return;
  online = true;
  startHeartbeat();
  if (queue.length) log(`replaying ${queue.length} queued TransactionEvents`);
  await flush();
  await sendStatus();
}
function connect() {
  reconnectTimer = null;
  client.connect().catch((e) => log(`connect failed: ${e.message}`));   // 'close' follows and retries
}
function main() {
  client = new RPCClient({
    endpoint: args.url.replace(/\/+$/, ''),      // ocpp-rpc appends '/' + identity
    identity: args.id, password: args.password, protocols: ['ocpp2.0.1'], strictMode: true,
    reconnect: false,                            // our own loop: a fixed 1 s, and we must know reset from loss
    callTimeoutMs: 30000,
  });
  handlers(client);
  client.on('open', () => onOpen().catch((e) => log('error:', e.message)));
  client.on('close', ({ code, reason }) => {
    if (connected) log(`disconnected (${code}${reason ? ' ' + reason : ''})`);
    connected = online = false;
    clearInterval(heartbeatTimer);
    if (!stopping && !reconnectTimer) reconnectTimer = setTimeout(connect, 1000);
  });
  client.on('strictValidationFailure', ({ method, outbound, isCall, error }) => log('strict validation failure:',
    `${outbound ? 'outbound' : 'inbound'} ${method} ${isCall ? 'call' : 'result'}: ${error.message}`));
  connect();
}
async function shutdown(why) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${why})`);
  clearTimeout(reconnectTimer); clearInterval(heartbeatTimer);
  if (tx) clearTimeout(tx.timer);
  setTimeout(() => process.exit(0), 2000).unref();
  try { await client.close({ code: 1000, reason: 'Station stopping' }); } catch (e) { /* already closed */ }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
setTimeout(() => shutdown(`${args.seconds} s`), Number(args.seconds) * 1000);
main();

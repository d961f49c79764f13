// The page's shell: sign-in, the views, and keeping the one on screen fresh.
//
// Live updates are short polling (every POLL_MS while the tab is visible), not server-sent events: depotd's
// API answers one request per connection and closes it, so a stream would need a second kind of HTTP
// connection held open on the loop that serves the chargers; a handful of operator tabs asking three small
// questions every 5 s costs depotd far less than one charger's meter values, goes through the same
// authentication, fleet scoping and problem answers as every other client, and survives proxies and a
// depotd restart without reconnect logic. Plans change at re-plans and slot boundaries, meter values every
// few minutes: 5 s is fresher than the data.
import * as api from './api.js';
import { clear } from './ui.js';
import now from './now.js';
import plan from './plan.js';
import vans from './vans.js';
import events from './events.js';
import prices from './prices.js';

const POLL_MS = 5000;
const VIEWS = { now, plan, vans, events, prices };
const $ = (id) => document.getElementById(id);

const state = { me: null, view: null, busy: false, timer: null };

// What the token may do; the API enforces it, the page only hides what would be refused.
function canEdit(vehicle) {
  const me = state.me;
  if (!me || (me.role !== 'dispatcher' && me.role !== 'admin')) return false;
  return !me.fleet || (vehicle && vehicle.fleet === me.fleet);
}

const ctx = {
  get me() { return state.me; },
  canEdit,
  refreshSoon: () => setTimeout(refresh, 0),
  onAuthLost: (e) => signOut(`depotd no longer accepts this token (${e.message}). Sign in again.`),
};

function banner(text) {
  const b = $('banner');
  b.textContent = text || '';
  b.hidden = !text;
}

async function refresh() {
  const view = VIEWS[state.view];
  if (!view || state.busy || !state.me) return;
  state.busy = true;
  try {
    await view.refresh(ctx);
    banner('');
  } catch (e) {
    if (e.status === 401) ctx.onAuthLost(e);
    else banner(`Could not refresh: ${e.message}`);
  } finally {
    state.busy = false;
  }
}

function show(viewName) {
  if (!VIEWS[viewName]) viewName = 'now';
  state.view = viewName;
  for (const name of Object.keys(VIEWS)) $(`view-${name}`).hidden = name !== viewName;
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === viewName) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  refresh();
}

function schedule() {
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (document.visibilityState === 'visible') refresh();
  }, POLL_MS);
}

function roleText(me) {
  const scope = me.fleet ? `fleet ${me.fleet}` : 'all fleets';
  return `${me.name} · ${me.role}${me.role === 'admin' ? '' : ` · ${scope}`}`;
}

async function enter() {
  state.me = await api.get('/api/v1/me');
  clear($('who'), roleText(state.me));
  document.body.dataset.role = state.me.role;
  $('signin').hidden = true;
  $('shell').hidden = false;
  for (const v of Object.values(VIEWS)) v.mount?.(ctx);
  show(location.hash.slice(1) || 'now');
  schedule();
}

function signOut(message = '') {
  api.setToken(null);
  state.me = null;
  clearInterval(state.timer);
  $('shell').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
  $('signin-token').value = '';
  $('signin-token').focus();
}

async function signIn(e) {
  e.preventDefault();
  const t = $('signin-token').value.trim();
  if (!t) {
    $('signin-error').textContent = 'Enter your API token.';
    return;
  }
  api.setToken(t);
  try {
    await enter();
  } catch (err) {
    const why = err.status === 401
      ? 'depotd did not accept this token. Check it with your depot operator (tokens are case-sensitive).'
      : `Could not sign in: ${err.message}`;
    signOut(why);
  }
}

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : matchMedia('(prefers-color-scheme: dark)').matches;
  const next = dark ? 'light' : 'dark';
  localStorage.setItem('depotd.theme', next);
  applyTheme(next);
  VIEWS[state.view]?.retheme?.();
}

function start() {
  applyTheme(localStorage.getItem('depotd.theme'));
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => signOut('Signed out.'));
  $('theme').addEventListener('click', toggleTheme);
  addEventListener('hashchange', () => state.me && show(location.hash.slice(1)));
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && refresh());
  if (api.token()) {
    enter().catch((e) => signOut(e.status === 401 ? 'Your token is no longer accepted. Sign in again.'
                                                   : `Could not sign in: ${e.message}`));
  } else {
    signOut();
  }
}

// For the browser tests and the curious: the state and the views (each keeps its chart and last data).
window.depotdPage = { state, views: VIEWS, refresh };
start();

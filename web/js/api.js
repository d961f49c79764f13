// The page's only way to depotd: /api/v1 with the bearer token the user signed in with. The token lives in
// sessionStorage (gone with the tab, never in a URL or a cookie, so no other site can make the browser use it).

const KEY = 'depotd.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.field = problem?.field || null;
  }
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

// One request. Resolves with {json, etag, status}; a problem+json (or a network failure) rejects with ApiError.
export async function request(method, path, { body, ifMatch, signal } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                              cache: 'no-store', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { detail: 'depotd cannot be reached (is it running? is the network up?)' });
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return { json, etag: res.headers.get('ETag'), status: res.status };
}

export const get = (path, opts) => request('GET', path, opts).then((r) => r.json);

// Every page of a list (items + next_cursor), up to `max` items.
export async function getAll(path, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

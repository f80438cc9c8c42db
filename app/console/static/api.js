// The bearer token (URL fragment, then session storage), JSON calls to /console/api/*, page status.
/* global fetch, history, location, sessionStorage */
import { $ } from './dom.js';
import { TOKEN_KEY, state } from './state.js';

export function readToken() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, init) {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${state.token || ''}`, accept: 'application/json' },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new HttpError(res.status, body.error || `HTTP ${res.status}`);
  return body;
}

export function askToken(message) {
  const dlg = $('login');
  $('login-error').textContent = message || '';
  if (!dlg.open) dlg.showModal();
}

export function setLive(ok, label) {
  const el = $('live');
  el.dataset.state = ok ? 'ok' : 'error';
  el.querySelector('.label').textContent = label;
}

export function banner(message) {
  const el = $('banner');
  el.hidden = !message;
  el.textContent = message || '';
}

/** Re-render a section only when its data changed (keeps hover and focus stable between polls). */
export function changed(key, data) {
  const json = JSON.stringify(data);
  if (state.lastJson[key] === json) return false;
  state.lastJson[key] = json;
  return true;
}

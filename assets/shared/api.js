// The one way pages talk to the server: JSON over /api/v1, errors as ApiError with the
// server's stable code and its message in the page's language.

import { lang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super((lang() === 'en' ? error.message_en : error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'HTTP_' + status;
    this.details = (error.details || []).map((d) => ({ ...d, text: lang() === 'en' ? d.message_en : d.message }));
    // What a refused change carries as it is now (the order, the kitchen ticket), to show at once.
    this.order = error.order || null;
    this.ticket = error.ticket || null;
  }
}

export async function api(method, path, body, { headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path.startsWith('/') ? path : `/api/v1/${path}`, init);
  } catch (cause) {
    throw new ApiError(0, { error: { code: 'NETWORK', message: '网络连接失败，请检查网络后重试', message_en: 'Network error; check the connection and retry' } });
  }
  if (raw && response.ok) return response;
  if (response.status === 204 || response.status === 304) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body, options);
export const put = (path, body, options) => api('PUT', path, body, options);
export const del = (path, options) => api('DELETE', path, undefined, options);

/** Fills an image URL template ("/images/{id}/thumbnail") with an image id. */
export const imageUrl = (template, id) => template.replace('{id}', encodeURIComponent(id));

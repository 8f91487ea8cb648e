/** Talks to /admin/api/*: JSON in and out, the CSRF token on every POST, back to the login form when the session ends. */
import type { ApiError } from '../apiTypes.js';

const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method === 'POST') {
    headers['x-csrf-token'] = csrfToken;
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`/admin/api/${path}`, {
    method, headers, credentials: 'same-origin', body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  if (res.status === 401) {
    // The session expired (or the bot restarted): the page itself shows the login form.
    window.location.reload();
    throw new ApiFailure(401, 'Signed out; reloading.');
  }
  const data = (await res.json()) as T | ApiError;
  if (!res.ok) throw new ApiFailure(res.status, (data as ApiError).message ?? `HTTP ${res.status}`);
  return data as T;
}

export const getJson = <T>(path: string): Promise<T> => request<T>('GET', path);
export const postJson = <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', path, body);

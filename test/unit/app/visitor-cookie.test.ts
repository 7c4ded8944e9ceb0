// The app's visitor cookie (RFC 6265 §4.1.2.5): Secure when the proxy says the visit came over https.
import { describe, expect, it } from 'vitest';
import { Request, Response } from '../../../services/app/kernel/http.js';
import { ResponseEvent } from '../../../services/app/kernel/kernel.js';
import { VisitorCookieListener } from '../../../services/app/kernel/listeners.js';

function cookieFor(proto: string | undefined): string | undefined {
  const headers: Record<string, string> = proto ? { 'x-forwarded-proto': proto } : {};
  const req = new Request(
    'GET',
    '/about',
    new URLSearchParams(),
    headers,
    {},
    '127.0.0.1',
    'www.example.test',
  );
  const e = new ResponseEvent(req, new Response('ok'));
  VisitorCookieListener(e);
  return e.response.cookies[0];
}

describe('the visitor cookie', () => {
  it('is Secure; HttpOnly; SameSite=Lax on https', () => {
    expect(cookieFor('https')).toMatch(/^visitor=[0-9a-f]{12}; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  });
  it('is not Secure over plain http (a browser would drop it)', () => {
    expect(cookieFor('http')).toMatch(/^visitor=[0-9a-f]{12}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(cookieFor(undefined)).not.toMatch(/Secure/);
  });
});

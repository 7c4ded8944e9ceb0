// Controllers and the argument resolver (JOURNEY 29–31): controllers declare their parameters;
// value resolvers supply the Request, route attributes converted to their types, and entities.

import type { UserRepository } from './db.js';
import { HttpException, type Request, Response } from './kernel/http.js';
import type { ArgumentResolver, Controller, ControllerResolver } from './kernel/kernel.js';
import type { Route } from './kernel/router.js';
import { aboutPage, hejPage, searchPage, userPage } from './pages.js';

export const routes: Route[] = [
  { name: 'hej', path: '/hej', controller: 'hej' },
  { name: 'home', path: '/', controller: 'home' },
  { name: 'about', path: '/about', controller: 'about' },
  { name: 'user_show', path: '/users/{id}', controller: 'user_show', requirements: { id: '\\d+' } },
  { name: 'api_user', path: '/api/users/{id}', controller: 'api_user', requirements: { id: '\\d+' } },
  { name: 'error', path: '/error', controller: 'error' },
  { name: 'search', path: '/search', controller: 'search' },
];

const html = (body: string | Buffer, status = 200) =>
  new Response(body, status, { 'content-type': 'text/html; charset=utf-8' });

// the story's page is the same for everyone (that is why the proxy may cache it): rendered and
// encoded once, as the bytes every response sends
const HEJ = Buffer.from(hejPage());

const SEARCH_INDEX = [
  {
    title: 'Hej! — the page of the story',
    url: 'https://www.example.test/hej',
    words: 'hej page press enter url browser',
  },
  {
    title: 'What happens when you type a URL and press Enter',
    url: 'https://www.example.test/about',
    words: 'what happens when how to press enter url type dns tcp tls http',
  },
  { title: 'The lab CA', url: 'http://ca.test/', words: 'certificate ca tls ocsp crl' },
];

export const controllers: Record<string, Controller> = {
  hej: { name: 'hej', params: [], fn: () => html(HEJ) },
  home: { name: 'home', params: [], fn: () => new Response('', 302, { location: '/hej' }) },
  about: {
    name: 'about',
    params: [{ name: 'request', kind: 'request' }],
    fn: (r) => html(aboutPage((r as Request).header('referer'))),
  },
  user_show: {
    name: 'user_show',
    params: [{ name: 'user', kind: 'entity:User' }],
    fn: (u) => html(userPage(u as { id: number; name: string; city: string })),
  },
  // returns data, not a Response: kernel.view turns it into JSON
  api_user: {
    name: 'api_user',
    params: [{ name: 'user', kind: 'entity:User' }],
    fn: (u) => {
      const user = u as { id: number; name: string };
      return { id: user.id, name: user.name };
    },
  },
  error: {
    name: 'error',
    params: [],
    fn: () => {
      throw new Error('the error route always fails: this is what a bug looks like');
    },
  },
  search: {
    name: 'search',
    params: [{ name: 'request', kind: 'request' }],
    fn: (r) => {
      const q = ((r as Request).query.get('q') ?? '').trim();
      const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
      const hits = terms.length
        ? SEARCH_INDEX.filter((d) => terms.some((t) => d.words.includes(t) || d.url.includes(t)))
        : [];
      return html(searchPage(q, hits));
    },
  },
};

/** JOURNEY 29: API v2 of the user endpoint, chosen by the ApiVersionListener. */
export const v2Controllers: Record<string, Controller> = {
  api_user: {
    name: 'api_user_v2',
    params: [{ name: 'user', kind: 'entity:User' }],
    fn: (u) => {
      const user = u as { id: number; name: string; email: string; city: string };
      const [given, ...family] = user.name.split(' ');
      return {
        data: {
          id: user.id,
          type: 'user',
          attributes: { givenName: given, familyName: family.join(' '), email: user.email, city: user.city },
        },
        apiVersion: 2,
      };
    },
  },
};

export const controllerResolver: ControllerResolver = {
  getController: (request) => controllers[String(request.attributes.get('_controller') ?? '')],
};

export function argumentResolver(users: UserRepository): ArgumentResolver {
  return {
    getArguments(request, controller) {
      return controller.params.map((p) => {
        if (p.kind === 'request') return request;
        const raw = request.attributes.get(p.name === 'user' ? 'id' : p.name);
        if (p.kind === 'int') return Number(raw);
        if (p.kind === 'string') return String(raw ?? '');
        // entity value resolver: an id in the route becomes a User loaded from SQLite
        const id = Number(raw);
        const user = Number.isSafeInteger(id) ? users.find(id) : undefined;
        if (!user) throw new HttpException(404, `no user with id ${raw}`);
        return user;
      });
    },
  };
}

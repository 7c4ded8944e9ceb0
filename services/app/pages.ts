// The pages of the story, as HTML. /hej is the page the lab's browser loads in press-enter: a
// stylesheet and script of its own, more from the CDN, and enough images to need several connections.

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
${head}</head>
<body>
${body}
</body>
</html>
`;
}

export function hejPage(): string {
  const photos = Array.from(
    { length: 8 },
    (_, i) =>
      `  <img src="https://cdn.example.test/img/photo${i + 1}.svg" alt="Photo ${i + 1}" width="120" height="80">`,
  ).join('\n');
  return layout(
    'Hej! — example.test',
    `<header><img src="https://cdn.example.test/img/logo.svg" alt="example.test logo" width="48" height="48"></header>
<h1>Hej!</h1>
<p>You typed a URL and pressed Enter. This page came back through the proxy from the app server.</p>
<nav>
  <a href="/about">About this page</a>
  <a href="/users/42">A user from the database</a>
  <a href="https://search.test/?q=what+happens+when+you+press+enter">Search</a>
</nav>
<h2>Photos from the CDN</h2>
<div class="photos">
${photos}
</div>
<script src="/js/app.js"></script>
<script src="https://cdn.example.test/js/analytics.js" async></script>`,
    `<link rel="stylesheet" href="/css/site.css">
<link rel="stylesheet" href="https://cdn.example.test/css/fonts.css">
`,
  );
}

export function aboutPage(referer: string | undefined): string {
  return layout(
    'About — example.test',
    `<h1>About</h1>
<p>You came here from ${referer ? `<code>${esc(referer)}</code> (the Referer header, one r)` : 'nowhere (no Referer header)'}.</p>
<p><a href="/hej">Back to Hej!</a></p>`,
  );
}

export function userPage(u: { id: number; name: string; city: string }): string {
  return layout(
    `${u.name} — example.test`,
    `<h1>${esc(u.name)}</h1>\n<p>User ${u.id} lives in ${esc(u.city)}.</p>\n<p><a href="/hej">Back</a></p>`,
  );
}

export function searchPage(q: string, results: { title: string; url: string }[]): string {
  const items = results.map((r) => `  <li><a href="${esc(r.url)}">${esc(r.title)}</a></li>`).join('\n');
  return layout(
    q ? `${q} — lab search` : 'lab search',
    `<h1>lab search</h1>
<form action="/" method="get"><input name="q" value="${esc(q)}"><button>Search</button></form>
${q ? `<h2>Results for “${esc(q)}”</h2>\n<ol>\n${items || '  <li>nothing found</li>'}\n</ol>` : ''}`,
  );
}

export function web2Page(host: string): string {
  return layout(
    'web2 — another server',
    `<h1>This is web2</h1>\n<p>You asked for <code>${esc(host)}</code>, but the hosts file sent you to another server.</p>`,
  );
}

export function errorPage(status: number, title: string, detail: string): string {
  return layout(`${status} ${title}`, `<h1>${status} ${esc(title)}</h1>\n<p>${esc(detail)}</p>`);
}
